"""`tasktalk watch`: the Progress View box, exact, and the live command against a real server."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
import os
import pty
import signal
import subprocess
import sys
import termios
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.client_options import (
    ClientOptions,
    ClientProblem,
    normalise_server,
    resolve_client_options,
)
from bot.progress_view import bar_cells, build_view, render_box
from bot.text_width import display_width
from bot.watch import watch
from tests.bot.server_process import ServerProcess, free_port
from tests.conftest import CRM_TASK, Api

NOW = datetime(2024, 1, 15, 10, 2, 30, tzinfo=UTC)
UI_SUBSTEPS = ["Customer list view", "Product list view", "Sales form", "Repair board"]


def _ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def spec_document() -> dict[str, Any]:
    """The spec's progress example, 2 min 30 s after it started."""
    return {
        "task_id": "abc123",
        "title": "Cellphone Store CRM",
        "status": "running",
        "progress": 65,
        "current_step": 2,
        "total_steps": 4,
        "started_at": _ago(150),
        "eta_seconds": 180,
        "steps": [
            {"order": 1, "name": "Create database tables", "status": "completed", "progress": 100},
            {
                "order": 2,
                "name": "Generate application UI",
                "status": "running",
                "progress": 65,
                "substeps": [{"name": n, "done": i < 2} for i, n in enumerate(UI_SUBSTEPS)],
            },
            {"order": 3, "name": "Add search and filters", "status": "pending", "progress": 0},
            {"order": 4, "name": "Configure workflows", "status": "pending", "progress": 0},
        ],
    }


def _box(document: dict[str, Any], now: datetime = NOW) -> str:
    return render_box(build_view(document, now))


# --- the box, exactly -------------------------------------------------------------------

SPEC_BOX = """\
┌────────────────────────────────────────────────────────────────┐
│  Cellphone Store CRM                                           │
│                                                                │
│  [████████████████████░░░░░░░░░░] 65%                          │
│                                                                │
│  Step 2 of 4: Generate application UI                          │
│  ├─ Customer list view ✓                                       │
│  ├─ Product list view ✓                                        │
│  ├─ Sales form ◐ (in progress)                                 │
│  └─ Repair board ○ (pending)                                   │
│                                                                │
│  Started: 2 min ago                                            │
│  ETA: 3 min remaining                                          │
│                                                                │
│  [p] Pause  [c] Cancel  [q] Quit                               │
└────────────────────────────────────────────────────────────────┘"""


def test_spec_example_box() -> None:
    assert _box(spec_document()) == SPEC_BOX


def test_without_keys_the_hint_line_goes() -> None:
    lines = SPEC_BOX.split("\n")
    expected = "\n".join([*lines[:-3], lines[-1]])
    assert render_box(build_view(spec_document(), NOW), keys=False) == expected


def _paused() -> dict[str, Any]:
    document = spec_document()
    document.update(status="paused", paused=True, started_at=_ago(330))
    document["steps"][1]["status"] = "paused"
    return document


def _approval() -> dict[str, Any]:
    document = spec_document()
    document.update(status="approval", progress=50, current_step=3, eta_seconds=None)
    document["started_at"] = _ago(372)
    step = document["steps"][1]
    step.update(status="completed", progress=100)
    for substep in step["substeps"]:
        substep["done"] = True
    document["steps"][2].update(status="approval", requires_approval=True)
    return document


def _failed() -> dict[str, Any]:
    document = spec_document()
    document.update(status="failed", progress=38, eta_seconds=None, started_at=_ago(200))
    document["steps"][1].update(
        status="failed", progress=50, error="Template engine crashed:\nmissing field 'imei'"
    )
    return document


def _completed() -> dict[str, Any]:
    document = spec_document()
    document.update(
        status="completed",
        progress=100,
        current_step=None,
        eta_seconds=0,
        started_at=_ago(372),
        finished_at=_ago(130),
        duration_ms=242_000,
    )
    for step in document["steps"]:
        step.update(status="completed", progress=100)
    for substep in document["steps"][1]["substeps"]:
        substep["done"] = True
    return document


def _cancelled() -> dict[str, Any]:
    document = spec_document()
    document.update(
        status="cancelled", progress=45, current_step=3, eta_seconds=None, cancelled_by="alice"
    )
    document["steps"][1].update(status="cancelled", progress=80)
    return document


PAUSED_BOX = """\
┌────────────────────────────────────────────────────────────────┐
│  Cellphone Store CRM                                           │
│                                                                │
│  [████████████████████░░░░░░░░░░] 65%                          │
│                                                                │
│  Step 2 of 4: Generate application UI                          │
│  ├─ Customer list view ✓                                       │
│  ├─ Product list view ✓                                        │
│  ├─ Sales form ⏸ (paused)                                      │
│  └─ Repair board ○ (pending)                                   │
│                                                                │
│  Started: 5 min ago                                            │
│  ⏸ Paused                                                      │
│                                                                │
│  [r] Resume  [c] Cancel  [q] Quit                              │
└────────────────────────────────────────────────────────────────┘"""

APPROVAL_BOX = """\
┌────────────────────────────────────────────────────────────────┐
│  Cellphone Store CRM                                           │
│                                                                │
│  [███████████████░░░░░░░░░░░░░░░] 50%                          │
│                                                                │
│  Step 3 of 4: Add search and filters                           │
│                                                                │
│  Started: 6 min ago                                            │
│  ⚠ Waiting for your approval: Step 3 Add search and filters    │
│                                                                │
│  [p] Pause  [c] Cancel  [q] Quit                               │
└────────────────────────────────────────────────────────────────┘"""

FAILED_BOX = """\
┌────────────────────────────────────────────────────────────────┐
│  Cellphone Store CRM                                           │
│                                                                │
│  [███████████░░░░░░░░░░░░░░░░░░░] 38%                          │
│                                                                │
│  Step 2 of 4: Generate application UI                          │
│  ├─ Customer list view ✓                                       │
│  ├─ Product list view ✓                                        │
│  ├─ Sales form ✕ (failed)                                      │
│  └─ Repair board ○ (pending)                                   │
│                                                                │
│  Started: 3 min ago                                            │
│  ✕ Step 2 failed: Template engine crashed: missing field 'ime… │
│                                                                │
│  [p] Pause  [c] Cancel  [q] Quit                               │
└────────────────────────────────────────────────────────────────┘"""

COMPLETED_BOX = """\
┌────────────────────────────────────────────────────────────────┐
│  Cellphone Store CRM                                           │
│                                                                │
│  [██████████████████████████████] 100%                         │
│                                                                │
│  4 of 4 steps done                                             │
│                                                                │
│  Started: 6 min ago                                            │
│  ✓ Finished in 4 min                                           │
│                                                                │
│  [q] Quit                                                      │
└────────────────────────────────────────────────────────────────┘"""

CANCELLED_BOX = """\
┌────────────────────────────────────────────────────────────────┐
│  Cellphone Store CRM                                           │
│                                                                │
│  [██████████████░░░░░░░░░░░░░░░░] 45%                          │
│                                                                │
│  Step 2 of 4: Generate application UI                          │
│  ├─ Customer list view ✓                                       │
│  ├─ Product list view ✓                                        │
│  ├─ Sales form ✕ (cancelled)                                   │
│  └─ Repair board ○ (pending)                                   │
│                                                                │
│  Started: 2 min ago                                            │
│  ✕ Cancelled by alice                                          │
│                                                                │
│  [q] Quit                                                      │
└────────────────────────────────────────────────────────────────┘"""


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(_paused(), PAUSED_BOX, id="paused"),
        pytest.param(_approval(), APPROVAL_BOX, id="approval"),
        pytest.param(_failed(), FAILED_BOX, id="failed"),
        pytest.param(_completed(), COMPLETED_BOX, id="completed"),
        pytest.param(_cancelled(), CANCELLED_BOX, id="cancelled"),
    ],
)
def test_state_boxes(document: dict[str, Any], expected: str) -> None:
    assert _box(document) == expected


def test_substeps_of_a_step_waiting_for_approval_need_attention() -> None:
    document = _approval()
    document["steps"][2]["substeps"] = [
        {"name": "Search box", "done": False, "status": "pending"},
        {"name": "Filters", "done": False, "status": "pending"},
    ]
    lines = _box(document).split("\n")
    assert "│  ├─ Search box ⚠ (needs approval)" in "\n".join(lines)
    assert "│  └─ Filters ○ (pending)" in "\n".join(lines)


def test_substeps_reported_running_are_the_ones_in_progress() -> None:
    document = spec_document()
    substeps = document["steps"][1]["substeps"]
    substeps[2]["status"] = "skipped"
    substeps[3]["status"] = "running"
    text = _box(document)
    assert "├─ Sales form ○ (skipped)" in text
    assert "└─ Repair board ◐ (in progress)" in text


# --- times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "started"),
    [
        (3, "just now"),
        (45, "45 s ago"),
        (150, "2 min ago"),
        (3900, "1 h 5 min ago"),
        (7200, "2 h ago"),
    ],
)
def test_started_reads_like_a_person_says_it(seconds: int, started: str) -> None:
    document = spec_document()
    document["started_at"] = _ago(seconds)
    assert f"│  Started: {started} " in _box(document)


@pytest.mark.parametrize(
    ("eta", "text"),
    [
        (None, "unknown"),
        (0, "any moment now"),
        (38, "about 40 s remaining"),
        (180, "3 min remaining"),
        (200, "3 min remaining"),
        (3900, "1 h 5 min remaining"),
    ],
)
def test_eta_reads_like_a_person_says_it(eta: int | None, text: str) -> None:
    document = spec_document()
    document["eta_seconds"] = eta
    assert f"│  ETA: {text} " in _box(document)


def test_a_task_not_started_yet() -> None:
    document = spec_document()
    document.update(status="pending", progress=0, current_step=1, started_at=None, eta_seconds=None)
    for step in document["steps"]:
        step.update(status="pending", progress=0)
    text = _box(document)
    assert "│  [░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░] 0% " in text
    assert "│  Not started yet " in text
    assert "│  ETA: unknown " in text


@pytest.mark.parametrize(
    ("percent", "cells"), [(0, 0), (1, 0), (50, 15), (65, 20), (99, 29), (100, 30)]
)
def test_bar_cells(percent: int, cells: int) -> None:
    assert bar_cells(percent) == cells


# --- width ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "手机店客户管理系统",
        "📊 Sales dashboard ⚠️ with emoji",
        "Cellphone Store CRM for the whole chain of stores across the northern region",
        "手机店客户管理系统手机店客户管理系统手机店客户管理系统手机店客户管理系统",
        "Café, naïve, Zoë and combining acute: e\u0301",
    ],
)
def test_wide_characters_and_long_titles_keep_the_right_border(title: str) -> None:
    document = spec_document()
    document["title"] = title
    document["steps"][1]["name"] = "生成应用程序界面" * 6
    document["steps"][1]["substeps"][2]["name"] = "販売フォーム（在庫と修理の連携を含む）" * 3
    lines = _box(document).split("\n")
    assert {display_width(line) for line in lines} == {66}
    assert all(line.endswith(("│", "┐", "┘")) for line in lines)
    title_line = lines[1]
    if display_width(title) > 61:
        assert title_line.rstrip(" │").endswith("…")
    assert "◐ (in progress)" in lines[8]  # a clipped substep name keeps its mark


def test_control_characters_in_a_title_never_reach_the_terminal() -> None:
    document = spec_document()
    document["title"] = "CRM\x1b[2J\x07 build\r\nnext line"
    line = _box(document).split("\n")[1]
    assert line == "│  CRM[2J build  next line".ljust(65) + "│"


# --- where the client finds the server --------------------------------------------------


def test_flags_beat_the_environment_which_beats_the_default() -> None:
    environ = {"TASKTALK_URL": "http://tasks.example:9000/", "TASKTALK_TOKEN": "env-token"}
    default = "http://127.0.0.1:8080"
    assert resolve_client_options(None, None, environ, default) == ClientOptions(
        "http://tasks.example:9000", "env-token"
    )
    assert resolve_client_options("localhost:7000", "flag", environ, default) == ClientOptions(
        "http://localhost:7000", "flag"
    )
    assert resolve_client_options(None, "t", {}, default).server == default
    with pytest.raises(ClientProblem) as missing:
        resolve_client_options(None, None, {}, default)
    assert missing.value.sentence == (
        "no API token; pass --token or set TASKTALK_TOKEN "
        "(make one with `tasktalk token create USER`)."
    )
    with pytest.raises(ClientProblem) as bad:
        normalise_server("ftp://tasks.example")
    assert bad.value.kind == "bad_server"


def test_unreachable_server_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    code = main(["watch", "--server", server, "--token", "anything"])
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"tasktalk: can't reach the server at {server} (connection refused); "
        "is `tasktalk serve` running? Set --server or TASKTALK_URL.\n"
    )


# --- live, against the app on a real socket ---------------------------------------------


class FakeStdout(io.StringIO):
    """What `watch` prints; a test can wait for a frame showing some text."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)

    @property
    def frame(self) -> str:
        return last_frame(self.getvalue())

    async def shows(self, text: str, *, without: str | None = None) -> str:
        """The first frame that has `text` (and not `without`)."""
        async with asyncio.timeout(10):
            while text not in self.frame or (without is not None and without in self.frame):
                self.written.clear()
                await self.written.wait()
        return self.frame


def last_frame(output: str) -> str:
    """Frames printed to a pipe are separated by a blank line (the box has none inside)."""
    return output.rstrip("\n").split("\n\n")[-1]


def _options(api: Api, token: str | None = None) -> ClientOptions:
    return ClientOptions(normalise_server(str(api.client.make_url("/"))), token or api.alice)


async def _create(api: Api, **changes: Any) -> str:
    response = await api.client.post("/api/tasks", json={**CRM_TASK, **changes}, headers=api.auth())
    assert response.status == 201
    task_id: str = (await response.json())["task_id"]
    return task_id


async def _report(api: Api, task_id: str, order: int, body: dict[str, Any]) -> None:
    response = await api.client.patch(
        f"/api/tasks/{task_id}/steps/{order}", json=body, headers=api.auth()
    )
    assert response.status == 200, await response.text()


async def test_watch_follows_the_crm_task_until_it_completes(api: Api) -> None:
    task_id = await _create(api)
    await _report(api, task_id, 1, {"status": "running"})
    out = FakeStdout()
    watching = asyncio.create_task(watch(_options(api), task_id, out=out))

    first = await out.shows("Step 1 of 4: Create database tables")
    assert "│  Cellphone Store CRM " in first
    assert "[q] Quit" not in first  # no keyboard: no key hints

    await _report(api, task_id, 1, {"status": "completed"})
    await _report(
        api,
        task_id,
        2,
        {
            "status": "running",
            "substeps": [
                {"name": "Customer list", "done": True},
                {"name": "Product list", "done": True},
            ],
        },
    )
    frame = await out.shows("├─ Sales form ◐ (in progress)")
    assert "] 38% " in frame
    assert "│  ├─ Customer list ✓ " in frame

    await _report(api, task_id, 2, {"status": "completed"})
    await _report(api, task_id, 3, {"status": "running"})
    await out.shows("│  ⚠ Waiting for your approval: Step 3 Add search and filters")
    await api.client.post(f"/api/tasks/{task_id}/steps/3/approve", headers=api.auth())
    await _report(api, task_id, 3, {"status": "completed"})
    await _report(api, task_id, 4, {"status": "running"})
    await _report(api, task_id, 4, {"status": "completed"})

    assert await asyncio.wait_for(watching, 10) == 0
    final = out.frame
    assert "[██████████████████████████████] 100%" in final
    assert "│  4 of 4 steps done " in final
    assert "│  ✓ Finished in " in final


async def test_watch_follows_a_restarted_task_to_its_new_attempt(api: Api) -> None:
    task_id = await _create(api)
    await _report(api, task_id, 1, {"status": "running"})
    out = FakeStdout()
    watching = asyncio.create_task(watch(_options(api), task_id, out=out))
    await out.shows("Step 1 of 4: Create database tables")
    restarted = await api.client.post(f"/api/tasks/{task_id}/restart", headers=api.auth())
    assert restarted.status == 200
    old = await (await api.client.get(f"/api/tasks/{task_id}", headers=api.auth())).json()
    new_id = old["next_task_id"]
    frame = await out.shows(f"Following the restarted task {new_id}.")
    assert "│  Not started yet " in frame
    await api.client.post(f"/api/tasks/{new_id}/cancel", headers=api.auth())
    assert await asyncio.wait_for(watching, 10) == 0
    assert "│  ✕ Cancelled by alice " in out.frame


async def test_without_a_task_watch_picks_the_newest_running_one(api: Api) -> None:
    running = await _create(api, title="Inventory sync")
    await _report(api, running, 1, {"status": "running"})
    await _create(api, title="Newer but pending")
    out = FakeStdout()
    assert await watch(_options(api), None, out=out, once=True) == 0
    assert "│  Inventory sync " in out.frame

    await api.client.post(f"/api/tasks/{running}/cancel", headers=api.auth())
    out = FakeStdout()
    assert await watch(_options(api), None, out=out, once=True) == 0
    assert "│  Newer but pending " in out.frame


async def test_bad_token_unknown_task_and_no_tasks_are_clear(api: Api) -> None:
    server = _options(api).server
    task_id = await _create(api)
    with pytest.raises(ClientProblem) as bad:
        await watch(_options(api, "not-a-token"), task_id, out=io.StringIO())
    assert bad.value.sentence == (
        f"the server at {server} doesn't accept this token; make a new one with "
        "`tasktalk token create USER` and pass it with --token or TASKTALK_TOKEN."
    )
    with pytest.raises(ClientProblem) as other:  # bob can't see alice's task
        await watch(_options(api, api.bob), task_id, out=io.StringIO())
    assert other.value.sentence == (
        f"there is no task {task_id} on {server} for this token; "
        "run `tasktalk watch` without a task to follow your newest one."
    )
    with pytest.raises(ClientProblem) as nothing:
        await watch(_options(api, api.bob), None, out=io.StringIO())
    assert nothing.value.sentence == f"nothing to watch: this token has no tasks on {server} yet."


async def test_keys_pause_resume_and_cancel_over_rest(api: Api) -> None:
    task_id = await _create(api)
    await _report(api, task_id, 1, {"status": "running"})
    master, terminal = pty.openpty()
    before = termios.tcgetattr(terminal)
    out = FakeStdout()
    watching = asyncio.create_task(watch(_options(api), task_id, out=out, keyboard=terminal))
    try:
        await out.shows("[p] Pause  [c] Cancel  [q] Quit")
        assert termios.tcgetattr(terminal)[3] & termios.ICANON == 0  # single keys

        os.write(master, b"p")
        frame = await out.shows("│  ⏸ Paused ")
        assert "[r] Resume  [c] Cancel  [q] Quit" in frame
        status = await api.client.get(f"/api/tasks/{task_id}/progress", headers=api.auth())
        assert (await status.json())["status"] == "paused"

        os.write(master, b"p")  # already paused: the server's own sentence
        await out.shows("task is already paused, so it can't be")
        os.write(master, b"r")
        await out.shows("│  ETA: ")

        os.write(master, b"c")
        await out.shows("Press c again to cancel this task, any other key to keep it.")
        os.write(master, b"x")
        await out.shows("[p] Pause  [c] Cancel  [q] Quit", without="Press c again")

        os.write(master, b"cc")
        assert await asyncio.wait_for(watching, 10) == 0
        assert "│  ✕ Cancelled by alice " in out.frame
        assert termios.tcgetattr(terminal) == before
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        os.close(master)
        os.close(terminal)


async def test_q_quits_and_restores_the_terminal(api: Api) -> None:
    task_id = await _create(api)
    master, terminal = pty.openpty()
    before = termios.tcgetattr(terminal)
    out = FakeStdout()
    watching = asyncio.create_task(watch(_options(api), task_id, out=out, keyboard=terminal))
    try:
        await out.shows("[q] Quit")
        os.write(master, b"q")
        assert await asyncio.wait_for(watching, 10) == 0
        assert "[q] Quit" not in out.frame  # the last frame drops the hints
        assert termios.tcgetattr(terminal) == before
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        os.close(master)
        os.close(terminal)


# --- the command in its own process -----------------------------------------------------


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    process = ServerProcess(database_url, tmp_path)
    yield process
    process.stop()


class ProcessOutput:
    """A child's stdout, read as it comes."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""

    async def shows(self, text: str) -> str:
        async with asyncio.timeout(20):
            while text not in last_frame(self.text):
                chunk = await self._stream.read(65536)
                if not chunk:
                    raise AssertionError(f"watch ended before showing {text!r}:\n{self.text}")
                self.text += self._decoder.decode(chunk)
        return last_frame(self.text)


async def _spawn_watch(server: ServerProcess, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "watch",
        *args,
        cwd=server.workdir,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "TASKTALK_URL": server.url},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_watch_command_prints_updates_and_exits_on_ctrl_c(server: ServerProcess) -> None:
    token = await server.token("alice")
    await server.start()
    async with aiohttp.ClientSession(
        server.url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        task_id = (await (await http.post("/api/tasks", json=CRM_TASK)).json())["task_id"]
        await http.patch(f"/api/tasks/{task_id}/steps/1", json={"status": "running"})
        child = await _spawn_watch(server, "--token", token)
        assert child.stdout is not None and child.stderr is not None
        out = ProcessOutput(child.stdout)
        try:
            frame = await out.shows("Step 1 of 4: Create database tables")
            assert frame.startswith("┌" + "─" * 64 + "┐")
            await http.patch(f"/api/tasks/{task_id}/steps/1", json={"progress": 50})
            await out.shows("] 13% ")
            child.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(child.wait(), 10) == 0
            assert await child.stderr.read() == b""
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()


@pytest.mark.slow
async def test_watch_command_reconnects_after_a_server_restart(server: ServerProcess) -> None:
    token = await server.token("alice")
    await server.start()
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(server.url, headers=headers) as http:
        task_id = (await (await http.post("/api/tasks", json=CRM_TASK)).json())["task_id"]
        await http.patch(f"/api/tasks/{task_id}/steps/1", json={"status": "running"})
    child = await _spawn_watch(server, task_id, "--token", token)
    assert child.stdout is not None
    out = ProcessOutput(child.stdout)
    try:
        await out.shows("Step 1 of 4: Create database tables")
        server.kill()
        await out.shows("; reconnecting…")
        await server.start()
        async with aiohttp.ClientSession(server.url, headers=headers) as http:
            await http.patch(f"/api/tasks/{task_id}/steps/1", json={"status": "completed"})
            await out.shows("] 25% ")
        child.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(child.wait(), 10) == 0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


@pytest.mark.slow
def test_console_script_says_when_the_server_is_unreachable(tmp_path: Path) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    environ = {**os.environ, "TASKTALK_URL": server, "TASKTALK_TOKEN": "t"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "tasktalk"), "watch", "abc"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"tasktalk: can't reach the server at {server} (connection refused); "
        "is `tasktalk serve` running? Set --server or TASKTALK_URL.\n"
    )
