"""Crash safety: the server is killed with SIGKILL mid-stream and started again.

Every report the server acknowledged must be in the history afterwards, and a task a
person paused must still be paused and resume at the same step.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import CRM_TASK

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`tasktalk serve` in a child process, started and killed like an operator would."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot.cli", *args, "--database", self.database_url]

    def token(self, user: str) -> str:
        out = subprocess.run(
            self._cli("token", "create", user),
            cwd=self.workdir,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def _spawn(self) -> None:
        with open(self.workdir / "server.log", "ab") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(
                self._cli("serve", "--port", str(self.port)),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        self._spawn()
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError((self.workdir / "server.log").read_text())

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path)
    yield process
    process.stop()


async def test_sigkill_loses_no_acknowledged_report_and_keeps_pause(server: ServerProcess) -> None:
    token = server.token("alice")
    headers = {"Authorization": f"Bearer {token}"}
    await server.start()
    async with aiohttp.ClientSession(server.url, headers=headers) as http:
        created = await (await http.post("/api/tasks", json=CRM_TASK)).json()
        streamed = await (await http.post("/api/tasks", json=CRM_TASK)).json()
        paused_id, stream_id = created["task_id"], streamed["task_id"]
        await http.patch(f"/api/tasks/{paused_id}/steps/1", json={"status": "completed"})
        await http.patch(
            f"/api/tasks/{paused_id}/steps/2",
            json={
                "status": "running",
                "progress": 50,
                "substeps": [
                    {"name": "Customer list", "done": True},
                    {"name": "Product list", "done": True},
                ],
            },
        )
        await http.post(f"/api/tasks/{paused_id}/pause")
        await http.patch(f"/api/tasks/{stream_id}/steps/1", json={"status": "running"})

        acknowledged: list[float] = []
        enough = asyncio.Event()

        async def stream(worker: int) -> None:
            for i in range(10_000):
                value = round((i * 8 + worker) % 10_000 / 100, 2)
                try:
                    async with http.patch(
                        f"/api/tasks/{stream_id}/steps/1", json={"progress": value}
                    ) as response:
                        if response.status == 200:
                            await response.read()
                            acknowledged.append(value)
                            if len(acknowledged) >= 300:
                                enough.set()
                except (aiohttp.ClientError, ConnectionError):
                    return

        streams = [asyncio.create_task(stream(w)) for w in range(8)]
        await enough.wait()
        server.kill()
        await asyncio.gather(*streams)

    await server.start()
    async with aiohttp.ClientSession(server.url, headers=headers) as http:
        history = await (await http.get(f"/api/tasks/{stream_id}/history")).json()
        stored = [row["percent"] for row in history if row["step"] == 1]
        missing = [v for v in acknowledged if v not in stored]
        assert not missing, f"{len(missing)} acknowledged reports lost, e.g. {missing[:5]}"

        progress = await (await http.get(f"/api/tasks/{paused_id}/progress")).json()
        assert progress["status"] == "paused"
        assert progress["current_step"] == 2
        step = progress["steps"][1]
        assert (step["status"], step["progress"]) == ("paused", 50)
        assert [s["done"] for s in step["substeps"]] == [True, True, False, False]

        report = await (
            await http.patch(f"/api/tasks/{paused_id}/steps/2", json={"progress": 55})
        ).json()
        assert report["control"] == "pause"
        resumed = await (await http.post(f"/api/tasks/{paused_id}/resume")).json()
        assert resumed["status"] == "running"
        assert resumed["current_step"] == 2
        assert resumed["steps"][1]["status"] == "running"
        assert resumed["steps"][1]["progress"] == 55
        report = await (
            await http.patch(f"/api/tasks/{paused_id}/steps/2", json={"progress": 60})
        ).json()
        assert report["control"] is None
