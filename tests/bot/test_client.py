"""The producer client against a real `tasktalk serve` process.

A person acts through plain REST calls; the producer uses `bot.client`. Each test checks
what either of them would notice: blocking, the exception raised, what the server stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.client import (
    AsyncTaskClient,
    Backoff,
    Cancelled,
    ClientSetupError,
    Rejected,
    RequestRefused,
    Restarted,
    ServerUnreachable,
    TaskClient,
)
from tests.bot.server_process import ServerProcess, free_port
from tests.conftest import CRM_TASK

slow = pytest.mark.slow
FAST = Backoff(first=0.02, cap=0.2)


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path)
    await process.start()
    yield process
    process.stop()


@pytest.fixture
async def token(server: ServerProcess) -> str:
    return await server.token("alice")


@pytest.fixture
async def client(server: ServerProcess, token: str) -> AsyncIterator[AsyncTaskClient]:
    async with AsyncTaskClient(server.url, token, backoff=FAST) as producer:
        yield producer


@pytest.fixture
async def person(server: ServerProcess, token: str) -> AsyncIterator[Person]:
    async with aiohttp.ClientSession(
        server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        yield Person(http)


class Person:
    """Someone using the REST API directly: the one who pauses, approves and cancels."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def post(self, path: str, body: Any = None) -> Any:
        async with self.http.post(path, json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def get(self, path: str) -> Any:
        async with self.http.get(path) as response:
            assert response.status == 200, await response.text()
            return await response.json()


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll the client's state (it has no event to wait on) until `condition` holds."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not true within {within} s")


async def still_blocked(waiting: asyncio.Future[Any]) -> bool:
    """True if `waiting` has not finished a little while after it started to wait."""
    await asyncio.sleep(0.2)
    return not waiting.done()


async def create_crm(client: AsyncTaskClient) -> Any:
    return await client.create_task(
        CRM_TASK["title"], CRM_TASK["steps"], kind="crm-app", complexity=4
    )


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def now_ms() -> datetime:
    """Now, truncated to the millisecond precision reports carry."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@slow
async def test_checkpoint_blocks_while_paused_and_resumes_at_the_same_substep(
    client: AsyncTaskClient, person: Person
) -> None:
    task = await create_crm(client)
    await task.complete(1)
    await task.progress(2, 50, {"Customer list": True, "Product list": True})
    await person.post(f"/api/tasks/{task.id}/pause")

    waiting = asyncio.ensure_future(task.checkpoint())
    await until(lambda: task.control == "pause")
    assert await still_blocked(waiting)

    await person.post(f"/api/tasks/{task.id}/resume")
    await asyncio.wait_for(waiting, 5)
    assert (task.document["status"], task.document["current_step"]) == ("running", 2)
    step = task.document["steps"][1]
    assert (step["status"], step["progress"]) == ("running", 50)
    assert [s["done"] for s in step["substeps"]] == [True, True, False, False]

    await task.progress(2, 75, {"Sales form": True})
    step = task.document["steps"][1]
    assert (step["progress"], task.control) == (75, None)
    assert [s["done"] for s in step["substeps"]] == [True, True, True, False]


@slow
async def test_cancel_makes_checkpoint_raise_cancelled(
    client: AsyncTaskClient, person: Person
) -> None:
    task = await create_crm(client)
    await task.start(1)
    await person.post(f"/api/tasks/{task.id}/pause")
    waiting = asyncio.ensure_future(task.checkpoint())
    await until(lambda: task.control == "pause")

    await person.post(f"/api/tasks/{task.id}/cancel")
    with pytest.raises(Cancelled, match="was cancelled by alice") as raised:
        await asyncio.wait_for(waiting, 5)
    assert raised.value.task_id == task.id
    assert not isinstance(raised.value, Restarted)

    await task.progress(1, 80)  # a late report changes nothing and does not fail
    assert (task.control, task.document["status"], task.document["progress"]) == (
        "cancel",
        "cancelled",
        0,
    )
    with pytest.raises(Cancelled):
        await task.checkpoint()


@slow
async def test_restart_raises_restarted_with_the_new_task_of_the_same_plan(
    client: AsyncTaskClient, person: Person
) -> None:
    task = await create_crm(client)
    await task.start(1)
    await task.progress(1, 40)
    fresh = await person.post(f"/api/tasks/{task.id}/restart")

    with pytest.raises(Restarted) as raised:
        await asyncio.wait_for(task.checkpoint(), 5)
    assert raised.value.new_task_id == fresh["task_id"] != task.id
    assert isinstance(raised.value, Cancelled)
    await task.progress(1, 50)
    assert (task.control, task.restarted_as) == ("restart", fresh["task_id"])

    again = await client.task(raised.value.new_task_id)

    def plan(document: dict[str, Any]) -> list[tuple[str, bool, list[str]]]:
        return [
            (s["name"], s["requires_approval"], [sub["name"] for sub in s.get("substeps", [])])
            for s in document["steps"]
        ]

    assert plan(again.document) == plan(task.document)
    assert again.document["title"] == task.document["title"]
    assert (again.document["status"], again.document["previous_task_id"]) == ("pending", task.id)
    await again.start(1)
    await asyncio.wait_for(again.checkpoint(), 5)
    assert again.document["status"] == "running"


@slow
async def test_checkpoint_waits_for_approval_and_raises_rejected(
    client: AsyncTaskClient, person: Person
) -> None:
    task = await create_crm(client)
    await task.complete(1)
    await task.complete(2)
    await task.start(3)
    assert (task.control, task.document["steps"][2]["status"]) == ("wait", "approval")
    waiting = asyncio.ensure_future(task.checkpoint())
    assert await still_blocked(waiting)
    await person.post(f"/api/tasks/{task.id}/steps/3/approve")
    await asyncio.wait_for(waiting, 5)
    assert task.document["steps"][2]["status"] == "running"
    await task.complete(3)

    deploy = await client.create_task("Deploy", [{"name": "Ship it", "requires_approval": True}])
    await deploy.start(1)
    waiting = asyncio.ensure_future(deploy.checkpoint())
    await until(lambda: deploy.control == "wait")
    assert await still_blocked(waiting)
    await person.post(f"/api/tasks/{deploy.id}/steps/1/reject", {"reason": "Not on a Friday"})
    with pytest.raises(Rejected, match="Not on a Friday") as raised:
        await asyncio.wait_for(waiting, 5)
    assert (raised.value.step, raised.value.reason) == (1, "Not on a Friday")


@slow
async def test_reports_made_while_the_server_is_down_arrive_in_order_with_their_times(
    server: ServerProcess, token: str
) -> None:
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90]
    async with AsyncTaskClient(server.url, token, backoff=FAST) as client:
        task = await client.create_task("Import customers", ["Load", "Index"])
        await task.start(1)
        server.kill()
        down = now_ms()
        for value in values:
            await task.progress(1, value)
            await task.log(f"loaded {value}%", step=1)
        await task.complete(1)
        await task.log("load finished", level="warning")
        reported = now_ms()
        assert (reported - down).total_seconds() < 2, "reports waited for the dead server"
        assert task.buffered == 2 * len(values) + 2

        await server.start()
        await asyncio.wait_for(task.flush(), 10)
        assert task.buffered == 0
        assert task.document["steps"][0]["status"] == "completed"

    async with aiohttp.ClientSession(
        server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        person = Person(http)
        history = await person.get(f"/api/tasks/{task.id}/history")
        logs = await person.get(f"/api/tasks/{task.id}/logs?tail=100")

    during = [row for row in history if moment(row["updated_at"]) >= down]
    assert [(row["step"], row["percent"], row["status"]) for row in during] == [
        *((1, value, "running") for value in values),
        (1, 100, "completed"),
    ]
    times = [moment(row["updated_at"]) for row in during]
    assert times == sorted(times)
    assert times[-1] <= reported  # when the producer reported, not when the buffer arrived

    assert [line["message"] for line in logs] == [
        *(f"loaded {value}%" for value in values),
        "load finished",
    ]
    assert [line["step"] for line in logs] == [1] * len(values) + [None]
    assert logs[-1]["level"] == "warning"
    assert all(down <= moment(line["at"]) <= reported for line in logs)


@slow
async def test_a_buffered_report_the_server_refuses_surfaces_on_flush(
    server: ServerProcess, token: str
) -> None:
    async with AsyncTaskClient(server.url, token, backoff=FAST) as client:
        task = await client.create_task("Import customers", ["Load", "Index"])
        await task.start(1)
        server.kill()
        await task.complete(1)
        await task.start(1)  # completed -> running: the server will answer 409
        await task.start(2)
        await server.start()
        with pytest.raises(RequestRefused, match=r"refused with 409 .*can't become running") as e:
            await asyncio.wait_for(task.flush(), 10)
        assert (e.value.status, e.value.field) == (409, "status")
        assert task.buffered == 0
        steps = task.document["steps"]
        assert (steps[0]["status"], steps[1]["status"]) == ("completed", "running")
        await task.flush()  # reported once, not again


@slow
async def test_refused_reports_and_log_lines_raise_the_servers_message_and_field(
    client: AsyncTaskClient, person: Person
) -> None:
    task = await client.create_task("Import customers", ["Load"])
    with pytest.raises(RequestRefused) as raised:
        await task.progress(1, 150)
    assert (raised.value.status, raised.value.field) == (422, "progress")
    assert "progress must be from 0 to 100, not 150" in str(raised.value)
    with pytest.raises(RequestRefused, match="there is no step 2"):
        await task.start(2)

    for message, step in [("one", 1), ("two", 7), ("three", 1), ("four", None)]:
        await task.log(message, step=step)
    with pytest.raises(RequestRefused, match="there is no step 7") as raised:
        await task.flush()
    assert raised.value.field == "lines[0].step"
    logs = await person.get(f"/api/tasks/{task.id}/logs")
    assert [line["message"] for line in logs] == ["one", "three", "four"]

    await task.complete(1)
    assert task.document["status"] == "completed"


@slow
async def test_sync_client_reports_and_blocks_while_paused(
    server: ServerProcess, token: str, person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKTALK_URL", server.url)
    monkeypatch.setenv("TASKTALK_TOKEN", token)
    with TaskClient(backoff=FAST) as client:
        task = client.create_task(
            "Nightly report", ["Query", {"name": "Render", "substeps": ["PDF", "HTML"]}]
        )
        task.start(1)
        task.log("3 rows", step=1)
        task.complete(1)
        task.progress(2, 50, {"PDF": True})
        await person.post(f"/api/tasks/{task.id}/pause")
        waiting = asyncio.ensure_future(asyncio.to_thread(task.checkpoint))
        await until(lambda: task.control == "pause")
        assert await still_blocked(waiting)
        await person.post(f"/api/tasks/{task.id}/resume")
        await asyncio.wait_for(waiting, 5)
        task.report(2, progress=100, substeps=[{"name": "HTML", "done": True}])
        task.complete(2)
        assert task.document["status"] == "completed"

    logs = await person.get(f"/api/tasks/{task.id}/logs")
    assert [(line["message"], line["step"]) for line in logs] == [("3 rows", 1)]


async def test_server_unreachable_says_where_and_why() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncTaskClient(url, "any-token", backoff=FAST) as client:
        with pytest.raises(ServerUnreachable) as raised:
            await client.create_task("Import customers", ["Load"])
    assert str(raised.value).startswith(f"Can't reach tasktalk at {url}: connection refused")
    with TaskClient(url, "any-token", attempts=1) as sync, pytest.raises(ServerUnreachable):
        sync.task("abc123")


def test_a_missing_server_or_token_is_a_clear_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TASKTALK_URL", raising=False)
    monkeypatch.delenv("TASKTALK_TOKEN", raising=False)
    with pytest.raises(ClientSetupError, match="TASKTALK_URL"):
        AsyncTaskClient(token="t")
    with pytest.raises(ClientSetupError, match="TASKTALK_TOKEN"):
        TaskClient("http://127.0.0.1:8080")
