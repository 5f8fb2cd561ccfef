"""Crash safety: the server is killed with SIGKILL mid-stream and started again.

Every report the server acknowledged must be in the history afterwards, and a task a
person paused must still be paused and resume at the same step.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.bot.server_process import ServerProcess
from tests.conftest import CRM_TASK

pytestmark = pytest.mark.slow


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path)
    yield process
    process.stop()


async def test_sigkill_loses_no_acknowledged_report_and_keeps_pause(server: ServerProcess) -> None:
    token = await server.token("alice")
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
