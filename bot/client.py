"""The producer client: create tasks, report progress and logs, obey a person's commands.

Reports and log lines are buffered in order, each stamped with the moment the caller made
it, and a background sender delivers them one request at a time, retrying network errors
and 5xx answers with capped, jittered exponential backoff. A server restart or a short
outage therefore loses nothing. `report()` returns once the server acknowledged it (so a
refusal raises there), or at once while the server is unreachable; `log()` never waits.
Refusals of buffered entries raise from the next call. `checkpoint()` is where a producer
honours pause, cancel, restart and approval. `TaskClient` is the same API for plain scripts.

Limits: at most `buffer_limit` (default 10,000) reports and log lines wait per task; when
that many are buffered, the next call waits up to `patience` seconds for room. A log
request whose answer is lost in transit is sent again, so a log line may be stored twice.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import errno
import json
import os
import random
import threading
import uuid
import weakref
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import quote

import aiohttp

__all__ = [
    "AsyncTask",
    "AsyncTaskClient",
    "Backoff",
    "Cancelled",
    "ClientSetupError",
    "Rejected",
    "RequestRefused",
    "Restarted",
    "ServerUnreachable",
    "Task",
    "TaskClient",
    "TaskTalkError",
]

Document = dict[str, Any]
StepSpec = str | Mapping[str, Any]
Substeps = Mapping[str, bool] | Sequence[Mapping[str, Any]]
ReportStatus = Literal["running", "completed", "failed", "skipped"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
T = TypeVar("T")

#: Log lines per request and their total characters, well inside the server's limits.
LOG_BATCH_LINES = 500
LOG_BATCH_CHARS = 200_000
#: Answers worth retrying: the server is there but can't answer now.
RETRY_STATUSES = frozenset({408, 425, 429})


# --- errors ---------------------------------------------------------------------------------


class TaskTalkError(Exception):
    """Base of every error this client raises."""


class ClientSetupError(TaskTalkError, ValueError):
    """The server address or the token is missing."""


class ServerUnreachable(TaskTalkError):
    """No answer from the server where one was needed."""

    def __init__(self, server: str, reason: str, detail: str = "") -> None:
        super().__init__(f"Can't reach tasktalk at {server}: {reason}{detail}")
        self.server = server
        self.reason = reason


class RequestRefused(TaskTalkError):
    """A 4xx answer: a bug in the call, or a state of the task that forbids it (409)."""

    def __init__(
        self, method: str, path: str, status: int, code: str, message: str, field: str | None
    ) -> None:
        where = f" (field {field})" if field else ""
        super().__init__(f"{method} {path} refused with {status} {code}{where}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class Cancelled(TaskTalkError):
    """A person cancelled the task: stop working on it."""

    def __init__(self, task_id: str, message: str) -> None:
        super().__init__(message)
        self.task_id = task_id


class Restarted(Cancelled):
    """A person restarted the task: this one is cancelled; start over on `new_task_id`."""

    def __init__(self, task_id: str, new_task_id: str, message: str) -> None:
        super().__init__(task_id, message)
        self.new_task_id = new_task_id


class Rejected(TaskTalkError):
    """A person rejected a step that needed approval; `reason` says why."""

    def __init__(self, task_id: str, step: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.task_id = task_id
        self.step = step
        self.reason = reason


class _NoAnswer(Exception):
    """One attempt got no usable answer (network error, timeout, 5xx): worth retrying."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the async client -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays: doubling from `first` up to `cap`, each drawn from [delay/2, delay]."""

    first: float = 0.2
    cap: float = 5.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.first * 2.0 ** min(attempt, 32))
        return random.uniform(ceiling / 2, ceiling)


class AsyncTaskClient:
    """A connection to one tasktalk server as one user (token); use one per event loop.

    `attempts` bounds the tries of calls that need an answer (create_task, task);
    `patience` bounds how long flush/checkpoint/close wait for an unreachable server.
    """

    def __init__(
        self,
        server: str | None = None,
        token: str | None = None,
        *,
        backoff: Backoff = Backoff(),
        attempts: int = 4,
        patience: float = 60.0,
        timeout: float = 30.0,
        buffer_limit: int = 10_000,
    ) -> None:
        server = server or os.environ.get("TASKTALK_URL")
        token = token or os.environ.get("TASKTALK_TOKEN")
        if not server:
            raise ClientSetupError(
                "No tasktalk server given: pass server='http://host:8080' or set TASKTALK_URL."
            )
        if not token:
            raise ClientSetupError(
                "No tasktalk token given: pass token=... or set TASKTALK_TOKEN "
                "(`tasktalk token create USER` prints one)."
            )
        if "://" not in server:
            server = f"http://{server}"  # `localhost:8080`, as the CLI accepts
        self.server = server.rstrip("/")
        self.backoff = backoff
        self.attempts = max(1, attempts)
        self.patience = patience
        self.timeout = timeout
        self.buffer_limit = max(1, buffer_limit)
        #: Why the last attempt got no answer; None once an attempt is answered.
        self.unreachable: str | None = None
        self._token = token
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._tasks: weakref.WeakSet[AsyncTask] = weakref.WeakSet()
        self._busy: set[AsyncTask] = set()  # holds tasks with buffered entries alive

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            await self.close()
            return
        try:
            await self.close()
        except TaskTalkError as problem:  # don't hide the error that is already on its way
            error.add_note(f"While closing the tasktalk client: {problem}")

    async def create_task(
        self,
        title: str,
        steps: Sequence[StepSpec],
        *,
        kind: str | None = None,
        complexity: int | str | None = None,
        idempotency_key: str | None = None,
    ) -> AsyncTask:
        """Create a task; retried safely (a generated idempotency key stands in for none)."""
        body: dict[str, Any] = {
            "title": title,
            "steps": [step if isinstance(step, str) else dict(step) for step in steps],
            "idempotency_key": idempotency_key or uuid.uuid4().hex,
        }
        if kind is not None:
            body["kind"] = kind
        if complexity is not None:
            body["complexity"] = complexity
        document = await self._answer("POST", "/api/tasks", body)
        return self._track(AsyncTask(self, document))

    async def task(self, task_id: str) -> AsyncTask:
        """An existing task of this user, to report on or to wait for."""
        document = await self._answer("GET", f"/api/tasks/{quote(task_id, safe='')}/progress")
        return self._track(AsyncTask(self, document))

    async def close(self) -> None:
        """Deliver what every task buffered (within `patience`), then close the connection."""
        if self._closed:
            return
        problem: TaskTalkError | None = None
        try:
            for task in {*self._tasks, *self._busy}:
                try:
                    await task.flush()
                except TaskTalkError as error:
                    problem = problem or error
        finally:
            self._closed = True
            for task in {*self._tasks, *self._busy}:
                await task._stop()
            if self._session is not None:
                await self._session.close()
        if problem is not None:
            raise problem

    # --- transport ---------------------------------------------------------------------------

    def _track(self, task: AsyncTask) -> AsyncTask:
        self._tasks.add(task)
        return task

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise TaskTalkError("This tasktalk client is closed.")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout, sock_connect=min(self.timeout, 10.0)
                ),
            )
        return self._session

    async def _answer(self, method: str, path: str, body: Any = None) -> Any:
        """One request that needs an answer: retried `attempts` times, then ServerUnreachable."""
        reason = "no answer"
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff.delay(attempt - 1))
            try:
                return await self._attempt(method, path, body)
            except _NoAnswer as failure:
                reason = failure.reason
        raise ServerUnreachable(self.server, reason, _hint(reason))

    async def _attempt(self, method: str, path: str, body: Any = None) -> Any:
        """One try: the JSON answer, RequestRefused for 4xx, _NoAnswer for what to retry."""
        try:
            async with self._http().request(method, self.server + path, json=body) as response:
                status, payload = response.status, await response.read()
        except TimeoutError:
            raise self._failed(f"no answer within {self.timeout:g} s") from None
        except aiohttp.ClientConnectorError as error:
            raise self._failed(_os_reason(error.os_error)) from None
        except aiohttp.ServerDisconnectedError:
            raise self._failed("the connection closed before an answer") from None
        except aiohttp.ClientError as error:
            raise self._failed(str(error) or type(error).__name__) from None
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            raise self._failed(f"it answered {status} with something that isn't JSON") from None
        if status >= 500 or status in RETRY_STATUSES:
            raise self._failed(f"it answered {status}: {_error_field(data, 'message')}")
        self.unreachable = None
        if status >= 400:
            raise RequestRefused(
                method,
                path,
                status,
                _error_field(data, "code") or "error",
                _error_field(data, "message") or "(no message)",
                _error_field(data, "field"),
            )
        return data

    def _failed(self, reason: str) -> _NoAnswer:
        self.unreachable = reason
        return _NoAnswer(reason)


# --- one task ---------------------------------------------------------------------------------


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
        body: dict[str, Any] = {"at": _now()}
        if status is not None:
            body["status"] = status
        if progress is not None:
            body["progress"] = progress
        if substeps is not None:
            body["substeps"] = _substep_list(substeps)
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
        line: dict[str, Any] = {"message": message, "level": level, "at": _now()}
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


# --- the sync client --------------------------------------------------------------------------


class TaskClient:
    """`AsyncTaskClient` for plain scripts: it runs on a private event loop in a thread."""

    def __init__(
        self,
        server: str | None = None,
        token: str | None = None,
        *,
        backoff: Backoff = Backoff(),
        attempts: int = 4,
        patience: float = 60.0,
        timeout: float = 30.0,
        buffer_limit: int = 10_000,
    ) -> None:
        self._client = AsyncTaskClient(
            server,
            token,
            backoff=backoff,
            attempts=attempts,
            patience=patience,
            timeout=timeout,
            buffer_limit=buffer_limit,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tasktalk-client", daemon=True
        )
        self._thread.start()
        self._closed = False
        atexit.register(self.close)  # deliver what is buffered when a script just ends

    @property
    def server(self) -> str:
        return self._client.server

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None:
            self.close()
            return
        try:
            self.close()
        except TaskTalkError as problem:
            error.add_note(f"While closing the tasktalk client: {problem}")

    def create_task(
        self,
        title: str,
        steps: Sequence[StepSpec],
        *,
        kind: str | None = None,
        complexity: int | str | None = None,
        idempotency_key: str | None = None,
    ) -> Task:
        created = self._run(
            self._client.create_task(
                title, steps, kind=kind, complexity=complexity, idempotency_key=idempotency_key
            )
        )
        return Task(self, created)

    def task(self, task_id: str) -> Task:
        return Task(self, self._run(self._client.task(task_id)))

    def close(self) -> None:
        """Deliver what is buffered (within `patience`), then stop the thread."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        try:
            asyncio.run_coroutine_threadsafe(self._client.close(), self._loop).result()
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise TaskTalkError("This tasktalk client is closed.")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. Ctrl-C while blocked in checkpoint()
            raise


class Task:
    """`AsyncTask` for plain scripts; see there for what each method does."""

    def __init__(self, client: TaskClient, task: AsyncTask) -> None:
        self._client = client
        self._task = task

    @property
    def id(self) -> str:
        return self._task.id

    @property
    def document(self) -> Document:
        return self._task.document

    @property
    def control(self) -> str | None:
        return self._task.control

    @property
    def restarted_as(self) -> str | None:
        return self._task.restarted_as

    @property
    def buffered(self) -> int:
        return self._task.buffered

    def report(
        self,
        order: int,
        *,
        status: ReportStatus | None = None,
        progress: float | None = None,
        substeps: Substeps | None = None,
        error: str | None = None,
    ) -> None:
        self._client._run(
            self._task.report(
                order, status=status, progress=progress, substeps=substeps, error=error
            )
        )

    def start(self, order: int) -> None:
        self._client._run(self._task.start(order))

    def progress(self, order: int, percent: float, substeps: Substeps | None = None) -> None:
        self._client._run(self._task.progress(order, percent, substeps))

    def complete(self, order: int) -> None:
        self._client._run(self._task.complete(order))

    def fail(self, order: int, error: str) -> None:
        self._client._run(self._task.fail(order, error))

    def skip(self, order: int) -> None:
        self._client._run(self._task.skip(order))

    def log(self, message: str, *, level: LogLevel = "info", step: int | None = None) -> None:
        self._client._run(self._task.log(message, level=level, step=step))

    def flush(self) -> None:
        self._client._run(self._task.flush())

    def refresh(self) -> Document:
        return self._client._run(self._task.refresh())

    def checkpoint(self) -> None:
        self._client._run(self._task.checkpoint())


# --- helpers ----------------------------------------------------------------------------------


def _now() -> str:
    """The caller's moment as ISO 8601 UTC with milliseconds, the precision the server keeps."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _substep_list(substeps: Substeps) -> list[dict[str, Any]]:
    if isinstance(substeps, Mapping):
        return [{"name": name, "done": done} for name, done in substeps.items()]
    return [dict(item) for item in substeps]


def _error_field(data: Any, key: str) -> Any:
    error = data.get("error") if isinstance(data, dict) else None
    return error.get(key) if isinstance(error, dict) else None


def _os_reason(error: OSError) -> str:
    if error.errno is not None and error.errno > 0:
        return os.strerror(error.errno).lower()
    text = str(error)
    if f"[Errno {errno.ECONNREFUSED}]" in text:  # every address of a name refused
        return os.strerror(errno.ECONNREFUSED).lower()
    return (error.strerror or text or type(error).__name__).lower()


def _hint(reason: str) -> str:
    if reason.startswith(("connection refused", "name or service", "no route")):
        return " (is `tasktalk serve` running there? check server= or TASKTALK_URL)"
    return ""
