"""`tasktalk watch`: one task's Progress View, live in the terminal.

The task's WebSocket says *that* something changed; the REST progress document says what
to show (events carry no substeps or ETA). Keys p / r / c act through REST, q quits. A
dropped socket reconnects with `since=` so no change is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import textwrap
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import quote

import aiohttp
import orjson

from bot.api_session import ApiRefused, ApiSession
from bot.client_options import ClientOptions, ClientProblem
from bot.plain_text import render
from bot.progress_view import build_view, render_box
from bot.terminal import Screen, single_keys
from bot.text_width import printable
from engine.clock import Clock, SystemClock

KEY_ACTIONS = {"p": "pause", "r": "resume", "c": "cancel"}
QUIT_KEYS = frozenset("q\x03\x04")  # q, Ctrl-C and Ctrl-D (should they arrive as bytes)
FINISHED = frozenset({"completed", "cancelled"})
NOTICE_WIDTH = 66
TICK_SECONDS = 1.0
REFRESH_TICKS = 10  # refetch for a fresh ETA every this many ticks
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)


async def watch(
    options: ClientOptions,
    task: str | None,
    *,
    out: TextIO,
    keyboard: int | None = None,
    in_place: bool = False,
    once: bool = False,
    clock: Clock | None = None,
) -> int:
    """Show `task` (default: the newest running, else the newest) until it finishes or the
    person quits. `keyboard` is a terminal's file descriptor to read keys from."""
    screen = Screen(out, in_place=in_place)
    try:
        async with ApiSession(options) as api:
            document = await find_task(api, task)
            watcher = Watcher(api, screen, clock or SystemClock(), keys=keyboard is not None)
            if once:
                watcher.show(document, final=True)
                return 0
            return await watcher.run(document, keyboard)
    finally:
        screen.close()


async def find_task(api: ApiSession, task: str | None) -> dict[str, Any]:
    if task is not None:
        return await _progress(api, task)
    for query in ({"status": "running", "limit": 1}, {"limit": 1}):
        found: list[dict[str, Any]] = await api.get("/api/tasks", **query)
        if found:
            return found[0]
    raise ClientProblem("no_tasks", server=api.server)


async def _progress(api: ApiSession, task: str) -> dict[str, Any]:
    try:
        document: dict[str, Any] = await api.get(f"/api/tasks/{quote(task, safe='')}/progress")
    except ApiRefused as refusal:
        if refusal.status == 404:
            raise ClientProblem("unknown_task", task=task, server=api.server) from None
        raise
    return document


class Watcher:
    """Keeps the newest progress document of one task on screen and acts on keys."""

    def __init__(self, api: ApiSession, screen: Screen, clock: Clock, *, keys: bool) -> None:
        self.api = api
        self.screen = screen
        self.clock = clock
        self.keys = keys
        self.document: dict[str, Any] = {}
        self.notice: dict[str, Any] | None = None
        self.seq: int | None = None
        self._changed = asyncio.Event()
        self._finished = asyncio.Event()
        self._quit = asyncio.Event()
        self._confirming = False
        self._actions: set[asyncio.Task[None]] = set()

    async def run(self, document: dict[str, Any], keyboard: int | None) -> int:
        loop = asyncio.get_running_loop()
        with contextlib.ExitStack() as stack:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, self._quit.set)
                stack.callback(loop.remove_signal_handler, signum)
            if keyboard is not None:
                stack.enter_context(single_keys(keyboard))
                loop.add_reader(keyboard, self._read_keys, keyboard)
                stack.callback(loop.remove_reader, keyboard)
            try:
                following = await self._follow(document)
                while following is not None:
                    self.notice = {"kind": "following", "task": following}
                    following = await self._follow(await _progress(self.api, following))
            finally:
                for action in self._actions:
                    action.cancel()
                self.notice = None
                self.draw(final=True)
        return 0

    def show(self, document: dict[str, Any], *, final: bool = False) -> None:
        self.document = document
        self.draw(final=final)

    def draw(self, *, final: bool = False) -> None:
        final = final or self.document.get("status") in FINISHED
        frame = render_box(
            build_view(self.document, self.clock.now()), keys=self.keys and not final
        )
        if self.notice is not None:
            notice = render("watch_notice.txt.j2", **self.notice).strip()
            frame += "\n" + textwrap.fill(printable(notice), NOTICE_WIDTH)
        self.screen.show(frame)

    async def _follow(self, document: dict[str, Any]) -> str | None:
        """Watch one task until it finishes (returning the task it restarted as, if any)
        or the person quits (None)."""
        self._finished.clear()
        self.seq = None
        self._update(document)
        if self._finished.is_set():
            return self._restarted_as()
        task_id = str(document["task_id"])
        workers = [
            asyncio.create_task(self._listen(task_id)),
            asyncio.create_task(self._refresh(task_id)),
        ]
        if self.screen.in_place:
            workers.append(asyncio.create_task(self._tick()))
        ends = [asyncio.create_task(self._finished.wait()), asyncio.create_task(self._quit.wait())]
        try:
            done, _ = await asyncio.wait([*workers, *ends], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (*workers, *ends):
                pending.cancel()
            await asyncio.gather(*workers, *ends, return_exceptions=True)
        for worker in workers:
            error = worker.exception() if worker in done else None
            if error is not None:
                raise error
        return None if self._quit.is_set() else self._restarted_as()

    def _restarted_as(self) -> str | None:
        following = self.document.get("next_task_id")
        return str(following) if following else None

    def _update(self, document: dict[str, Any]) -> None:
        if _older(document, self.document):
            return  # a slow refresh overtaken by a newer document
        self.show(document)
        if document.get("status") in FINISHED:
            self._finished.set()

    def _set_notice(self, notice: dict[str, Any] | None) -> None:
        self.notice = notice
        self.draw()

    async def _listen(self, task_id: str) -> None:
        failures = 0
        while True:
            try:
                ws = await self.api.websocket(f"/ws/tasks/{task_id}", self.seq)
            except ClientProblem as problem:
                if not _retryable(problem):
                    raise
            else:
                async with ws:
                    with contextlib.suppress(aiohttp.ClientError, OSError):
                        async for message in ws:
                            if message.type is aiohttp.WSMsgType.TEXT:
                                self._on_message(orjson.loads(message.data))
                                failures = 0
            self._set_notice({"kind": "reconnecting", "server": self.api.server})
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])
            failures += 1

    def _on_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        seq = message.get("seq")
        if isinstance(seq, int):
            self.seq = max(self.seq or 0, seq)
        if message.get("type") != "ready":
            self._changed.set()
            return
        if self.notice is not None and self.notice["kind"] == "reconnecting":
            self.notice = None
        task = message.get("task")
        if isinstance(task, dict):
            self._update(task)

    async def _refresh(self, task_id: str) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            try:
                document: dict[str, Any] = await self.api.get(f"/api/tasks/{task_id}/progress")
            except ClientProblem as problem:
                if _retryable(problem):
                    continue  # the listener reconnects and its `ready` brings the document
                raise
            self._update(document)

    async def _tick(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(TICK_SECONDS)
            ticks += 1
            if ticks % REFRESH_TICKS == 0:
                self._changed.set()
            self.draw()

    def _read_keys(self, fd: int) -> None:
        try:
            data = os.read(fd, 64)
        except OSError:
            data = b""
        if not data:  # the terminal went away: stop listening, keep watching
            asyncio.get_running_loop().remove_reader(fd)
            return
        for key in data.decode(errors="ignore").lower():
            self._on_key(key)

    def _on_key(self, key: str) -> None:
        if key in QUIT_KEYS:
            self._quit.set()
            return
        if self._confirming:
            self._confirming = False
            if key == "c":
                self._start("cancel")
            else:
                self._set_notice(None)
            return
        action = KEY_ACTIONS.get(key)
        if action == "cancel":
            self._confirming = True
            self._set_notice({"kind": "confirm_cancel"})
        elif action is not None:
            self._start(action)

    def _start(self, action: str) -> None:
        job = asyncio.create_task(self._act(action))
        self._actions.add(job)
        job.add_done_callback(self._actions.discard)

    async def _act(self, action: str) -> None:
        self._set_notice({"kind": "sending", "action": action})
        task_id = self.document["task_id"]
        try:
            document: dict[str, Any] = await self.api.post(f"/api/tasks/{task_id}/{action}")
        except ApiRefused as refusal:
            self._set_notice({"kind": "refused", "message": refusal.message})
            return
        except ClientProblem as problem:
            self._set_notice({"kind": "refused", "message": problem.sentence})
            return
        self.notice = None
        self._update(document)


def _older(document: dict[str, Any], than: dict[str, Any]) -> bool:
    """Whether `document` describes the same task as `than` at an earlier moment."""
    if document.get("task_id") != than.get("task_id"):
        return False
    try:
        return datetime.fromisoformat(document["updated_at"]) < datetime.fromisoformat(
            than["updated_at"]
        )
    except (KeyError, TypeError, ValueError):
        return False


def _retryable(problem: ClientProblem) -> bool:
    """A lost connection or a 5xx answer (a restarting server or its proxy)."""
    status = problem.details.get("status")
    return problem.kind == "unreachable" or (isinstance(status, int) and status >= 500)
