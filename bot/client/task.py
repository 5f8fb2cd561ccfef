"""One task as its producer sees it: an ordered buffer, its sender, and `checkpoint()`."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp

from bot.client.errors import Cancelled, Rejected, Restarted, ServerUnreachable, _NoAnswer
from bot.client.wire import (
    LOG_BATCH_CHARS,
    LOG_BATCH_LINES,
    Document,
    LogLevel,
    ReportStatus,
    Substeps,
    now_iso,
    substep_list,
)

if TYPE_CHECKING:
    from bot.client.connection import AsyncTaskClient


@dataclass(eq=False, slots=True)
class _Entry:
    """One buffered report (`order` is its step) or log line (`order` is None)."""

    order: int | None
    body: dict[str, Any]
    waiter: asyncio.Future[None] | None = None


class AsyncTask:
    """One task as its producer sees it: reports go out in order, `checkpoint()` obeys."""

    def __init__(self, client: AsyncTaskClient, document: Document) -> None:
        self.id: str = document["task_id"]
        #: The last progress document seen (from a report's answer, checkpoint or refresh).
        self.document: Document = document
        #: The last control word: None, "pause", "cancel", "restart" or "wait".
        self.control: str | None = None
        #: The new task's id once a report learnt of a restart.
        self.restarted_as: str | None = None
        self._client = client
        self._path = f"/api/tasks/{quote(self.id, safe='')}"
        self._buffer: deque[_Entry] = deque()
        self._refusals: deque[Exception] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._room = asyncio.Event()
        self._wake = asyncio.Event()
        self._solo_lines = 0

    @property
    def buffered(self) -> int:
        """Reports and log lines not yet acknowledged by the server."""
        return len(self._buffer)

    async def report(
        self,
        order: int,
        *,
        status: ReportStatus | None = None,
        progress: float | None = None,
        substeps: Substeps | None = None,
        error: str | None = None,
    ) -> None:
        """Report step `order`; returns once acknowledged, or at once while the server is down.

        Raises RequestRefused for a report the server refuses (or an earlier buffered one).
        """
        body: dict[str, Any] = {"at": now_iso()}
        if status is not None:
            body["status"] = status
        if progress is not None:
            body["progress"] = progress
        if substeps is not None:
            body["substeps"] = substep_list(substeps)
        if error is not None:
            body["error"] = error
        await self._enqueue(_Entry(order, body), acknowledge=True)

    async def start(self, order: int) -> None:
        await self.report(order, status="running")

    async def progress(self, order: int, percent: float, substeps: Substeps | None = None) -> None:
        await self.report(order, progress=percent, substeps=substeps)

    async def complete(self, order: int) -> None:
        await self.report(order, status="completed")

    async def fail(self, order: int, error: str) -> None:
        await self.report(order, status="failed", error=error)

    async def skip(self, order: int) -> None:
        await self.report(order, status="skipped")

    async def log(self, message: str, *, level: LogLevel = "info", step: int | None = None) -> None:
        """Buffer a log line; lines go out in batches, in order with the reports."""
        line: dict[str, Any] = {"message": message, "level": level, "at": now_iso()}
        if step is not None:
            line["step"] = step
        await self._enqueue(_Entry(None, line), acknowledge=False)

    async def flush(self) -> None:
        """Deliver everything buffered; ServerUnreachable after `patience` without an answer."""
        if self._buffer:
            self._ensure_sender()
            self._wake.set()  # retry now instead of at the end of the current backoff
            await self._wait_for(self._drained, "still buffered")
        self._raise_refusal()

    async def refresh(self) -> Document:
        """Fetch the task's progress document now."""
        self.document = await self._client._answer("GET", f"{self._path}/progress")
        return self.document

    async def checkpoint(self) -> None:
        """Deliver the buffer, then do what a person asked for.

        Blocks while the task is paused or a step waits for approval; raises Cancelled,
        Restarted (a Cancelled carrying `new_task_id`) or Rejected.
        """
        await self.flush()
        document = await self.refresh()
        while self._must_wait(document):
            document = await self._changed(document["status"])

    # --- the sender ----------------------------------------------------------------------------

    async def _enqueue(self, entry: _Entry, *, acknowledge: bool) -> None:
        client = self._client
        client._http()  # refuses a closed client
        json.dumps(entry.body)  # a value JSON can't carry is the caller's TypeError, now
        while len(self._buffer) >= client.buffer_limit:
            self._room.clear()
            await self._wait_for(self._room, "buffered, the most one task holds")
        if acknowledge and client.unreachable is None:
            entry.waiter = asyncio.get_running_loop().create_future()
        self._buffer.append(entry)
        self._drained.clear()
        client._busy.add(self)
        self._ensure_sender()
        if entry.waiter is not None:
            await entry.waiter
        self._raise_refusal()

    async def _wait_for(self, event: asyncio.Event, state: str) -> None:
        """Wait for `event`; ServerUnreachable once `patience` passes without an answer."""
        while not event.is_set():
            try:
                await asyncio.wait_for(event.wait(), self._client.patience)
            except TimeoutError:
                if self._client.unreachable is not None:
                    raise self._unreachable(state) from None

    def _ensure_sender(self) -> None:
        if self._buffer and (self._sender is None or self._sender.done()):
            self._sender = asyncio.create_task(self._send_all(), name=f"tasktalk-send-{self.id}")

    async def _send_all(self) -> None:
        attempt = 0
        try:
            while self._buffer:
                method, path, body, count = self._next_request()
                try:
                    answer = await self._client._attempt(method, path, body)
                except _NoAnswer:
                    self._release_waiters()
                    await self._rest(self._client.backoff.delay(attempt))
                    attempt += 1
                    continue
                except Exception as refusal:  # RequestRefused, or a bug: don't retry it forever
                    if count > 1:  # find the bad line: send these one by one
                        self._solo_lines = count
                        continue
                    self._settle(self._take(1, method), refusal)
                else:
                    attempt = 0
                    self._absorb(answer)
                    self._settle(self._take(count, method), None)
        finally:
            self._release_waiters()
            if not self._buffer:
                self._drained.set()
                self._client._busy.discard(self)

    def _next_request(self) -> tuple[str, str, dict[str, Any], int]:
        head = self._buffer[0]
        if head.order is not None:
            return "PATCH", f"{self._path}/steps/{head.order}", head.body, 1
        most = 1 if self._solo_lines else LOG_BATCH_LINES
        lines: list[dict[str, Any]] = []
        chars = 0
        for entry in self._buffer:
            if entry.order is not None or len(lines) >= most:
                break
            chars += len(entry.body["message"])
            if lines and chars > LOG_BATCH_CHARS:
                break
            lines.append(entry.body)
        return "POST", f"{self._path}/logs", {"lines": lines}, len(lines)

    def _take(self, count: int, method: str) -> list[_Entry]:
        entries = [self._buffer.popleft() for _ in range(count)]
        if method == "POST":
            self._solo_lines = max(0, self._solo_lines - count)
        if len(self._buffer) < self._client.buffer_limit:
            self._room.set()
        return entries

    def _settle(self, entries: list[_Entry], refusal: Exception | None) -> None:
        for entry in entries:
            waiter = entry.waiter
            if waiter is not None and not waiter.done():
                if refusal is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(refusal)
                refusal = None
        if refusal is not None:
            self._refusals.append(refusal)

    def _release_waiters(self) -> None:
        """Let callers go on while the server is unreachable; their entries stay buffered."""
        for entry in self._buffer:
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.set_result(None)

    async def _rest(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    def _absorb(self, answer: Any) -> None:
        if not isinstance(answer, dict):
            return
        if isinstance(answer.get("task"), dict):
            self.document = answer["task"]
        self.control = answer.get("control")
        if answer.get("restarted_as"):
            self.restarted_as = answer["restarted_as"]

    def _raise_refusal(self) -> None:
        if self._refusals:
            raise self._refusals.popleft()

    def _unreachable(self, state: str) -> ServerUnreachable:
        client = self._client
        reason = client.unreachable or "no answer"
        detail = f"; {len(self._buffer)} reports and log lines of task {self.id} are {state}"
        return ServerUnreachable(client.server, reason, detail)

    async def _stop(self) -> None:
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    # --- obeying a person ----------------------------------------------------------------------

    def _must_wait(self, document: Document) -> bool:
        """True while paused or awaiting approval; raises on cancel, restart and rejection."""
        self.document = document
        title = document.get("title", "")
        if document["status"] == "cancelled":
            new_id = document.get("next_task_id")
            self.control = "restart" if new_id else "cancel"
            by = f" by {document['cancelled_by']}" if document.get("cancelled_by") else ""
            if new_id:
                message = f'Task {self.id} "{title}" was restarted{by} as task {new_id}.'
                raise Restarted(self.id, new_id, message)
            raise Cancelled(self.id, f'Task {self.id} "{title}" was cancelled{by}.')
        for step in document.get("steps", ()):
            approval = step.get("approval") or {}
            if step.get("status") == "failed" and approval.get("decision") == "rejected":
                self.control = None
                reason = step.get("error") or ""
                message = f'Step {step["order"]} "{step["name"]}" of task {self.id} was rejected'
                raise Rejected(self.id, step["order"], reason, f"{message}: {reason}")
        if document["status"] == "paused" or document.get("paused"):
            self.control = "pause"
            return True
        if document["status"] == "approval":
            self.control = "wait"
            return True
        self.control = None
        return False

    async def _changed(self, status: str) -> Document:
        """Wait until the task's status is no longer `status`; its fresh document.

        Listens on the task's WebSocket; when that fails, polls with backoff and retries it.
        """
        attempt = 0
        while True:
            with contextlib.suppress(_NoAnswer, aiohttp.ClientError, OSError, ValueError):
                document = await self._watch(status)
                if document is not None:
                    return document
            await asyncio.sleep(self._client.backoff.delay(attempt))
            attempt += 1
            try:
                polled: Document = await self._client._attempt("GET", f"{self._path}/progress")
            except _NoAnswer:
                continue
            if polled["status"] != status:
                return polled

    async def _watch(self, status: str) -> Document | None:
        """Read the socket until an event leaves `status`; None when the socket closes."""
        client = self._client
        url = f"{client.server}/ws/tasks/{quote(self.id, safe='')}"
        async with client._http().ws_connect(url, heartbeat=30.0) as socket:
            async for message in socket:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(message.data)
                if data.get("type") == "ready":
                    document = data.get("task")
                    if isinstance(document, dict) and document.get("status") != status:
                        return document
                elif data.get("status", status) != status:
                    fresh: Document = await client._attempt("GET", f"{self._path}/progress")
                    return fresh
        return None
