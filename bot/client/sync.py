"""The same client for plain scripts: the async one on a private loop in a daemon thread."""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from bot.client.connection import DEFAULT_BACKOFF, AsyncTaskClient, Backoff
from bot.client.errors import TaskTalkError
from bot.client.task import AsyncTask
from bot.client.wire import Document, LogLevel, ReportStatus, StepSpec, Substeps

T = TypeVar("T")


class TaskClient:
    """`AsyncTaskClient` for plain scripts: it runs on a private event loop in a thread."""

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
