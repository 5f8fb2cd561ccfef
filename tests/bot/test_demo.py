"""`tasktalk demo`: one command serves, seeds history and runs the CRM task; rerun continues."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.demo_plan import CRM_STEPS, SAMPLE_RUNS, total_seconds
from tests.bot.server_process import free_port

pytestmark = pytest.mark.slow


def test_the_default_pace_takes_about_three_minutes() -> None:
    assert 150 <= total_seconds(1.0) <= 210
    assert [s.name for s in CRM_STEPS] == [
        "Create database tables",
        "Generate application UI",
        "Add search and filters",
        "Configure workflows",
    ]
    assert CRM_STEPS[1].substeps == (
        "Customer list view",
        "Product list view",
        "Sales form",
        "Repair board",
    )
    assert [s.requires_approval for s in CRM_STEPS] == [False, False, True, False]


class Demo:
    def __init__(self, workdir: Path, port: int, speed: float) -> None:
        self.workdir, self.port, self.speed = workdir, port, speed
        self.process: asyncio.subprocess.Process | None = None
        self.output: list[str] = []

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "demo",
            "--port",
            str(self.port),
            "--speed",
            str(self.speed),
            "--database",
            f"sqlite+aiosqlite:///{self.workdir / 'demo.db'}",
            cwd=self.workdir,
            env={**os.environ, "TASKTALK_LOGGING__LEVEL": "WARNING"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def wait_for_line(self, pattern: str, within: float = 30.0) -> re.Match[str]:
        assert self.process is not None and self.process.stdout is not None
        async with asyncio.timeout(within):
            while True:
                for line in self.output:
                    if found := re.search(pattern, line):
                        return found
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError("demo ended early:\n" + "\n".join(self.output))
                self.output.append(raw.decode().rstrip("\n"))

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def interrupt(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(self.process.communicate(), 20)
        self.output.extend(rest.decode().splitlines())
        return self.process.returncode or 0


@pytest.fixture
async def demos(tmp_path: Path) -> AsyncIterator[list[Demo]]:
    """Demo processes to kill at teardown, whatever the test's outcome."""
    started: list[Demo] = []
    yield started
    for demo in started:
        demo.kill()
        if demo.process is not None:
            await demo.process.wait()


async def _get(url: str, token: str) -> Any:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.get(url) as response,
    ):
        return await response.json()


async def test_demo_runs_the_crm_task_to_the_end_with_history(
    tmp_path: Path, demos: list[Demo]
) -> None:
    demo = Demo(tmp_path, free_port(), speed=40)
    demos.append(demo)
    await demo.start()
    token = (await demo.wait_for_line(r"token:\s+(\S+)"))[1]
    task_id = (await demo.wait_for_line(r"Cellphone Store CRM: task ([0-9a-f]+)"))[1]
    await demo.wait_for_line(r"Step 3 waits for approval")
    await demo.wait_for_line(r"Demo finished")
    base = f"http://127.0.0.1:{demo.port}"
    document = await _get(f"{base}/api/tasks/{task_id}/progress", token)
    assert (document["status"], document["progress"]) == ("completed", 100)
    assert [s["status"] for s in document["steps"]] == ["completed"] * 4
    assert all(s["done"] for s in document["steps"][1]["substeps"])
    assert document["steps"][2]["approval"]["decision"] == "approved"
    logs = await _get(f"{base}/api/tasks/{task_id}/logs?tail=100", token)
    assert logs[0]["message"] == "Creating table customers (id, name, phone, email)"

    tasks = await _get(f"{base}/api/tasks", token)
    samples = {t["title"]: t for t in tasks if t["task_id"] != task_id}
    assert set(samples) == {title for _, title, _, _ in SAMPLE_RUNS}
    assert all(t["status"] == "completed" for t in samples.values())
    repair = samples["Phone Repair Tracker"]
    assert [s["duration_ms"] for s in repair["steps"]] == [24_000, 70_000, 30_000, 28_000]
    assert await demo.interrupt() == 0
    assert demo.output[-1] == "tasktalk demo stopped. Run it again to continue where it was."


async def test_running_the_demo_again_continues_where_it_stopped(
    tmp_path: Path, demos: list[Demo]
) -> None:
    port = free_port()
    first = Demo(tmp_path, port, speed=8)
    demos.append(first)
    await first.start()
    token = (await first.wait_for_line(r"token:\s+(\S+)"))[1]
    task_id = (await first.wait_for_line(r"Cellphone Store CRM: task ([0-9a-f]+)"))[1]
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        document = await _get(f"{base}/api/tasks/{task_id}/progress", token)
        if document["steps"][1]["status"] == "running":
            break
        await asyncio.sleep(0.05)
    assert await first.interrupt() == 0

    second = Demo(tmp_path, port, speed=40)
    demos.append(second)
    await second.start()
    token = (await second.wait_for_line(r"token:\s+(\S+)"))[1]
    again = await second.wait_for_line(r"Cellphone Store CRM: task ([0-9a-f]+) \((\w+)")
    assert again[1] == task_id
    await second.wait_for_line(r"Demo finished")
    history = await _get(f"{base}/api/tasks/{task_id}/history", token)
    step_one = [row["status"] for row in history if row["step"] == 1]
    phases = [s for i, s in enumerate(step_one) if i == 0 or step_one[i - 1] != s]
    assert phases == ["pending", "running", "completed"]  # not run a second time
    await second.interrupt()
