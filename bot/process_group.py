"""A child command in its own process group, so pause/resume/cancel reach all of it.

`tasktalk run` starts each step's command here: output arrives line by line (stdout and
stderr merged, as a terminal shows them), SIGSTOP/SIGCONT pause and resume the whole
group, and termination is SIGTERM followed by SIGKILL after a grace time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Sequence

#: Longest line passed on as one log line; longer output is split.
MAX_LINE_BYTES = 8192


class ProcessGroup:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.paused = False

    @classmethod
    async def start(
        cls, argv: Sequence[str], *, shell: bool = False, cwd: str | None = None
    ) -> ProcessGroup:
        """Start the command in a new session (its own process group)."""
        common = {
            "stdin": asyncio.subprocess.DEVNULL,
            "stdout": asyncio.subprocess.PIPE,
            "stderr": asyncio.subprocess.STDOUT,
            "start_new_session": True,
            "cwd": cwd,
            "limit": MAX_LINE_BYTES,
        }
        if shell:
            process = await asyncio.create_subprocess_shell(argv[0], **common)  # type: ignore[arg-type]
        else:
            process = await asyncio.create_subprocess_exec(*argv, **common)  # type: ignore[arg-type]
        return cls(process)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.returncode

    async def lines(self) -> AsyncIterator[str]:
        """Output lines without their newline, decoded leniently, until the output closes."""
        stream = self._process.stdout
        assert stream is not None
        while True:
            try:
                raw = await stream.readuntil(b"\n")
            except asyncio.IncompleteReadError as end:
                if end.partial:
                    yield _decode(end.partial)
                return
            except asyncio.LimitOverrunError as long_line:
                raw = await stream.read(long_line.consumed or MAX_LINE_BYTES)
            yield _decode(raw)

    async def wait(self) -> int:
        return await self._process.wait()

    def pause(self) -> None:
        if not self.paused and self._signal(signal.SIGSTOP):
            self.paused = True

    def resume(self) -> None:
        if self.paused and self._signal(signal.SIGCONT):
            self.paused = False

    async def terminate(self, grace_seconds: float) -> int:
        """SIGTERM the group (waking it if stopped), SIGKILL whatever is left after the grace."""
        self._signal(signal.SIGTERM)
        if self.paused:
            self._signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.paused = False
        try:
            return await asyncio.wait_for(self._process.wait(), grace_seconds)
        except TimeoutError:
            self._signal(signal.SIGKILL)
            return await self._process.wait()

    def _signal(self, number: signal.Signals) -> bool:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, number)
            return True
        return False


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r\n").replace("\x00", "\ufffd")
