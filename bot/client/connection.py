"""The connection to one tasktalk server as one user: requests, retries, task handles."""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp

from bot.client.errors import (
    ClientSetupError,
    RequestRefused,
    ServerUnreachable,
    TaskTalkError,
    _NoAnswer,
)
from bot.client.reasons import why_unreachable
from bot.client.task import AsyncTask
from bot.client.wire import RETRY_STATUSES, StepSpec, error_field


@dataclass(frozen=True, slots=True)
class Backoff:
    """Retry delays: doubling from `first` up to `cap`, each drawn from [delay/2, delay]."""

    first: float = 0.2
    cap: float = 5.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.first * 2.0 ** min(attempt, 32))
        return random.uniform(ceiling / 2, ceiling)


DEFAULT_BACKOFF = Backoff()


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
        backoff: Backoff = DEFAULT_BACKOFF,
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
            raise self._failed(why_unreachable(error.os_error)) from None
        except aiohttp.ServerDisconnectedError:
            raise self._failed("the connection closed before an answer") from None
        except aiohttp.ClientError as error:
            raise self._failed(str(error) or type(error).__name__) from None
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            raise self._failed(f"it answered {status} with something that isn't JSON") from None
        if status >= 500 or status in RETRY_STATUSES:
            raise self._failed(f"it answered {status}: {error_field(data, 'message')}")
        self.unreachable = None
        if status >= 400:
            raise RequestRefused(
                method,
                path,
                status,
                error_field(data, "code") or "error",
                error_field(data, "message") or "(no message)",
                error_field(data, "field"),
            )
        return data

    def _failed(self, reason: str) -> _NoAnswer:
        self.unreachable = reason
        return _NoAnswer(reason)


def _hint(reason: str) -> str:
    if reason.startswith(("connection refused", "name or service", "no route")):
        return " (is `tasktalk serve` running there? check server= or TASKTALK_URL)"
    return ""
