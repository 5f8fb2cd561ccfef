"""`tasktalk run` on real subprocesses: exit codes, logs, SIGSTOP on pause, SIGTERM on cancel."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.server_process import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'tasktalk.db'}", tmp_path)
    await process.start()
    yield process
    process.stop()


@pytest.fixture
async def person(server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    token = await server.token("alice")
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(server.url, headers=headers) as http:
        http.headers["X-Token"] = token
        yield http


async def _tasktalk_run(
    server: ServerProcess, person: aiohttp.ClientSession, *args: str
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TASKTALK_URL": server.url,
        "TASKTALK_TOKEN": person.headers["X-Token"],
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        *args,
        env=env,
        cwd=server.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _only_task(person: aiohttp.ClientSession) -> dict[str, Any]:
    for _ in range(200):
        async with person.get("/api/tasks") as response:
            tasks: list[dict[str, Any]] = await response.json()
        if tasks:
            return tasks[0]
        await asyncio.sleep(0.05)
    raise AssertionError("tasktalk run created no task")


async def _logs(person: aiohttp.ClientSession, task_id: str) -> list[str]:
    async with person.get(f"/api/tasks/{task_id}/logs?tail=1000") as response:
        return [line["message"] for line in await response.json()]


async def _until(condition: Any, within: float = 10.0) -> None:
    for _ in range(int(within / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def _state(pid: int) -> str:
    """The process state letter from /proc: R/S running or sleeping, T stopped."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text.rsplit(")", 1)[1].split()[0]


async def test_success_streams_logs_and_completes(
    server: ServerProcess, person: aiohttp.ClientSession
) -> None:
    run = await _tasktalk_run(
        server, person, "--title", "Nightly build", "--", "sh", "-c", "echo hello; echo world"
    )
    stdout, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == ["hello", "world"]
    task = await _only_task(person)
    assert (task["title"], task["status"], task["progress"]) == ("Nightly build", "completed", 100)
    assert task["steps"][0]["name"] == "sh -c 'echo hello; echo world'"
    assert await _logs(person, task["task_id"]) == ["hello", "world"]


async def test_failure_reports_the_exit_code_and_exits_with_it(
    server: ServerProcess, person: aiohttp.ClientSession
) -> None:
    run = await _tasktalk_run(
        server, person, "--title", "Broken", "--", "sh", "-c", "echo oops >&2; exit 3"
    )
    _, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 3, stderr.decode()
    task = await _only_task(person)
    assert task["status"] == "failed"
    assert task["steps"][0]["error"] == "`sh -c 'echo oops >&2; exit 3'` exited with status 3"
    assert await _logs(person, task["task_id"]) == ["oops"]


async def test_steps_run_in_order_and_stop_at_the_first_failure(
    server: ServerProcess, person: aiohttp.ClientSession
) -> None:
    run = await _tasktalk_run(
        server,
        person,
        "--title",
        "Deploy",
        "--step",
        "build=echo built",
        "--step",
        "test=echo testing; exit 1",
        "--step",
        "ship=echo shipped",
    )
    _, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 1, stderr.decode()
    task = await _only_task(person)
    assert [(s["name"], s["status"]) for s in task["steps"]] == [
        ("build", "completed"),
        ("test", "failed"),
        ("ship", "pending"),
    ]
    assert await _logs(person, task["task_id"]) == ["built", "testing"]


async def test_pause_stops_the_process_group_and_resume_continues_it(
    server: ServerProcess, person: aiohttp.ClientSession, tmp_path: Path
) -> None:
    ticks = tmp_path / "ticks"
    pidfile = tmp_path / "pid"
    script = (
        f"echo $$ > {pidfile}; i=0; "
        f"while [ $i -lt 400 ]; do i=$((i+1)); echo $i >> {ticks}; sleep 0.05; done"
    )
    run = await _tasktalk_run(server, person, "--title", "Ticker", "--", "sh", "-c", script)
    task = await _only_task(person)
    await _until(lambda: _async(ticks.exists() and pidfile.exists()))
    child = int(pidfile.read_text())

    await person.post(f"/api/tasks/{task['task_id']}/pause")
    await _until(lambda: _async(_state(child) == "T"))
    stopped_at = len(ticks.read_text().splitlines())
    await asyncio.sleep(0.5)
    assert len(ticks.read_text().splitlines()) == stopped_at  # nothing ran while paused

    await person.post(f"/api/tasks/{task['task_id']}/resume")
    await _until(lambda: _async(len(ticks.read_text().splitlines()) > stopped_at + 3))
    assert _state(child) in ("R", "S")

    await person.post(f"/api/tasks/{task['task_id']}/cancel")
    await asyncio.wait_for(run.communicate(), 30)


async def test_cancel_sends_sigterm_then_the_run_exits_143(
    server: ServerProcess, person: aiohttp.ClientSession, tmp_path: Path
) -> None:
    marker = tmp_path / "terminated"
    script = (
        f"trap 'echo TERM > {marker}; exit 0' TERM; echo ready; while true; do sleep 0.05; done"
    )
    run = await _tasktalk_run(
        server, person, "--title", "Long job", "--grace", "5", "--", "sh", "-c", script
    )
    task = await _only_task(person)
    await _until(lambda: _logs_contain(person, task["task_id"], "ready"))
    await person.post(f"/api/tasks/{task['task_id']}/cancel")
    _, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 143, stderr.decode()
    assert marker.read_text() == "TERM\n"
    async with person.get(f"/api/tasks/{task['task_id']}/progress") as response:
        document = await response.json()
    assert document["status"] == "cancelled"
    assert document["steps"][0]["status"] == "cancelled"


async def test_cancel_kills_a_process_that_ignores_sigterm_after_the_grace(
    server: ServerProcess, person: aiohttp.ClientSession
) -> None:
    script = "trap '' TERM; echo stubborn; while true; do sleep 0.05; done"
    run = await _tasktalk_run(
        server, person, "--title", "Stubborn", "--grace", "0.5", "--", "sh", "-c", script
    )
    task = await _only_task(person)
    await _until(lambda: _logs_contain(person, task["task_id"], "stubborn"))
    await person.post(f"/api/tasks/{task['task_id']}/cancel")
    _, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 143, stderr.decode()


async def test_nothing_to_run_is_a_clear_error(
    server: ServerProcess, person: aiohttp.ClientSession
) -> None:
    run = await _tasktalk_run(server, person, "--title", "Empty")
    _, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 1
    assert stderr.decode().startswith("tasktalk: nothing to run: give a command after --")


async def _async(value: bool) -> bool:
    return value


async def _logs_contain(person: aiohttp.ClientSession, task_id: str, line: str) -> bool:
    return line in await _logs(person, task_id)


async def test_a_double_dash_inside_the_command_is_kept(
    server: ServerProcess, person: aiohttp.ClientSession
) -> None:
    run = await _tasktalk_run(server, person, "--", "printf", "%s\\n", "a", "--", "b")
    stdout, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == ["a", "--", "b"]
    task = await _only_task(person)
    assert task["title"] == "printf '%s\\n' a -- b"


async def test_ctrl_c_terminates_the_command_and_reports_the_step_failed(
    server: ServerProcess, person: aiohttp.ClientSession, tmp_path: Path
) -> None:
    marker = tmp_path / "terminated"
    script = (
        f"trap 'echo TERM > {marker}; exit 0' TERM; echo ready; while true; do sleep 0.05; done"
    )
    run = await _tasktalk_run(server, person, "--title", "Interrupted", "--", "sh", "-c", script)
    task = await _only_task(person)
    await _until(lambda: _logs_contain(person, task["task_id"], "ready"))
    run.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(run.communicate(), 30)
    assert run.returncode == 130, stderr.decode()
    assert marker.read_text() == "TERM\n"
    async with person.get(f"/api/tasks/{task['task_id']}/progress") as response:
        step = (await response.json())["steps"][0]
    assert step["status"] == "failed"
    assert step["error"].endswith("was interrupted (Ctrl-C)")
