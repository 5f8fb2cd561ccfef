"""`tasktalk run`: a command (or several steps of commands) as a tracked task.

Each step's command runs in its own process group. Its output becomes log lines, its exit
code decides completed or failed, and people's commands reach it: pause stops the group
(SIGSTOP), resume continues it (SIGCONT), cancel terminates it (SIGTERM, then SIGKILL after a
grace time), and restart terminates it and runs everything again on the new attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
from dataclasses import dataclass

from bot.client import AsyncTask, AsyncTaskClient, Cancelled, Restarted
from bot.process_group import ProcessGroup

#: How often a running step asks the server what people want.
CONTROL_POLL_SECONDS = 0.5
#: Exit status for `tasktalk run` itself when a person cancelled (as after SIGTERM).
CANCELLED_EXIT = 128 + signal.SIGTERM


@dataclass(frozen=True)
class StepCommand:
    name: str
    argv: tuple[str, ...]
    shell: bool = False

    @property
    def command_line(self) -> str:
        return self.argv[0] if self.shell else shlex.join(self.argv)


async def run_task(
    client: AsyncTaskClient,
    title: str,
    steps: list[StepCommand],
    *,
    grace_seconds: float = 10.0,
    kind: str = "command",
) -> int:
    """Run every step in order; returns the exit status `tasktalk run` should exit with."""
    task = await client.create_task(title, [step.name for step in steps], kind=kind)
    while True:
        try:
            return await _run_steps(task, steps, grace_seconds)
        except Restarted as restarted:
            task = await client.task(restarted.new_task_id)
        except Cancelled:
            return CANCELLED_EXIT


async def _run_steps(task: AsyncTask, steps: list[StepCommand], grace_seconds: float) -> int:
    for order, step in enumerate(steps, 1):
        await task.checkpoint()
        await task.start(order)
        await task.checkpoint()  # paused or gated for approval: wait before starting the command
        try:
            code = await _run_step(task, order, step, grace_seconds)
        except asyncio.CancelledError:  # Ctrl-C: the command is already terminated
            await task.fail(order, f"`{step.command_line}` was interrupted (Ctrl-C)")
            await task.flush()
            raise
        if code != 0:
            await task.fail(order, f"`{step.command_line}` exited with status {code}")
            await task.flush()
            return code
        await task.complete(order)
    await task.flush()
    return 0


async def _run_step(task: AsyncTask, order: int, step: StepCommand, grace_seconds: float) -> int:
    group = await ProcessGroup.start(step.argv, shell=step.shell)
    output = asyncio.create_task(_forward_output(task, order, group))
    exited = asyncio.create_task(group.wait())
    try:
        while not exited.done():
            await asyncio.wait({exited}, timeout=CONTROL_POLL_SECONDS)
            if exited.done():
                break
            await _obey(task, order, group, grace_seconds)
    except BaseException:
        await group.terminate(grace_seconds)
        raise
    finally:
        await output
    return _exit_status(exited.result())


async def _obey(task: AsyncTask, order: int, group: ProcessGroup, grace_seconds: float) -> None:
    """Ask for the person's wishes (an empty report) and act on the process group."""
    await task.report(order)
    await task.flush()
    control = task.control
    if control == "pause":
        group.pause()
    elif control in ("cancel", "restart"):
        await group.terminate(grace_seconds)
        await task.checkpoint()  # raises Cancelled or Restarted
    elif group.paused:
        group.resume()


async def _forward_output(task: AsyncTask, order: int, group: ProcessGroup) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        async for line in group.lines():
            print(line, flush=True)
            await task.log(line, step=order)


def _exit_status(returncode: int) -> int:
    """Shell convention: killed by signal N exits 128 + N."""
    return 128 - returncode if returncode < 0 else returncode
