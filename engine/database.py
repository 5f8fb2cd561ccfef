"""Connections: one writer and a pool of readers, tuned per backend.

SQLite gets WAL, a busy timeout, full fsync on commit (cheap under group commit) and
`BEGIN IMMEDIATE` on writers, so a transaction that reads then writes never hits
"database is locked". The group-commit writer runs its whole batch on one dedicated thread
with the synchronous driver: one thread hop per batch instead of one per statement (what
aiosqlite costs), which measured 3x the report throughput. PostgreSQL uses asyncpg
throughout, the batch going through `run_sync`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


class BatchTransaction(Protocol):
    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Call `work(connection, *args)` inside the transaction."""
        ...

    async def finish(self, work: Callable[..., T], *args: Any) -> T:
        """The last step: `work(connection, *args)`, then commit (one hop on SQLite)."""
        ...


class _AsyncBatch:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(work, *args)

    async def finish(self, work: Callable[..., T], *args: Any) -> T:
        return await self._conn.run_sync(work, *args)  # committed by the context manager


class _WriterThread:
    """The SQLite writer's own thread: one queue in, `call_soon_threadsafe` out.

    Cheaper per hop than `run_in_executor` (no concurrent future, no chained callbacks),
    which shows on the report path: a batch makes one or two hops.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[
            tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop] | None
        ] = queue.SimpleQueue()
        # A daemon so a forgotten `dispose()` cannot hang interpreter exit; `stop` is the
        # orderly way (SQLite commits are atomic either way).
        self._thread = threading.Thread(target=self._serve, name="tasktalk-writer", daemon=True)
        self._thread.start()

    def call(self, work: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((work, future, loop))
        return future

    def stop(self) -> None:
        """Finish what is queued, then end the thread (blocks until it has)."""
        self._jobs.put(None)
        self._thread.join()

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            work, future, loop = job
            try:
                result = work()
            except BaseException as error:  # handed to the waiting coroutine
                settle: Callable[[asyncio.Future[Any], Any], None] = _settle_error
                result = error
            else:
                settle = _settle
            with contextlib.suppress(RuntimeError):  # the loop closed without waiting
                loop.call_soon_threadsafe(settle, future, result)


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    if not future.cancelled():
        future.set_result(result)


def _settle_error(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.cancelled():
        future.set_exception(error)


class _ThreadBatch:
    """A transaction on the SQLite writer thread; each step is one hop to that thread."""

    def __init__(self, database: Database, thread: _WriterThread) -> None:
        self._database = database
        self._thread = thread
        self._conn: Connection | None = None
        self.committed = False

    async def call(self, work: Callable[[], T]) -> T:
        return await self._thread.call(work)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        return await self.call(lambda: work(self._connection(), *args))

    async def finish(self, work: Callable[..., T], *args: Any) -> T:
        def work_then_commit() -> T:
            result = work(self._connection(), *args)
            self._connection().commit()
            self.committed = True
            return result

        return await self.call(work_then_commit)

    def finish_now(self) -> None:
        if self._conn is not None:
            self._conn.commit()
        self.committed = True

    def rollback(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.rollback()
            conn.close()  # start the next batch on a fresh connection
            self._database._batch_connection = None

    def _connection(self) -> Connection:
        """The connection, beginning the transaction on first use (in the same hop)."""
        if self._conn is None:
            self._conn = self._database.batch_connection()
            self._conn.begin()
        return self._conn


@dataclass
class Database:
    url: str
    writer: AsyncEngine
    reader: AsyncEngine
    #: SQLite only: the synchronous engine the batch writer uses on its own thread.
    batch_engine: Engine | None = None
    _batch_thread: _WriterThread | None = field(default=None, repr=False)
    _batch_connection: Connection | None = field(default=None, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[BatchTransaction]:
        """One write transaction whose steps run where the database work belongs: on the
        writer thread for SQLite, through `run_sync` on PostgreSQL. Commits on success."""
        if self.batch_engine is None:
            async with self.writer.begin() as conn:
                yield _AsyncBatch(conn)
            return
        if self._batch_thread is None:
            self._batch_thread = _WriterThread()
        transaction = _ThreadBatch(self, self._batch_thread)
        try:
            yield transaction
        except BaseException:
            await transaction.call(transaction.rollback)
            raise
        if not transaction.committed:
            await transaction.call(transaction.finish_now)

    def batch_connection(self) -> Connection:
        """The writer thread's connection, kept for the thread's lifetime (no pool checkout)."""
        assert self.batch_engine is not None
        if self._batch_connection is None or self._batch_connection.invalidated:
            self._batch_connection = self.batch_engine.connect()
        return self._batch_connection

    def _close_batch_connection(self) -> None:
        if self._batch_connection is not None:
            self._batch_connection.close()
            self._batch_connection = None
        if self.batch_engine is not None:
            self.batch_engine.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite); commits on success."""
        async with self.writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction: one consistent snapshot for several queries."""
        async with self.reader.connect() as conn, conn.begin():
            yield conn

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
        if self._batch_thread is not None and self.batch_engine is not None:
            thread, self._batch_thread = self._batch_thread, None
            await thread.call(self._close_batch_connection)
            await asyncio.to_thread(thread.stop)


def open_database(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 5) -> Database:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        writer = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        reader = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
        batch = create_engine(parsed.set(drivername="sqlite+pysqlite"), pool_size=1, max_overflow=0)
        _tune_sqlite(writer.sync_engine, begin="BEGIN IMMEDIATE", synchronous=sqlite_synchronous)
        _tune_sqlite(reader.sync_engine, begin="BEGIN", synchronous=sqlite_synchronous)
        _tune_sqlite(batch, begin="BEGIN IMMEDIATE", synchronous=sqlite_synchronous)
        return Database(url, writer, reader, batch)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size * 2)
    return Database(url, engine, engine)


def _tune_sqlite(engine: Engine, *, begin: str, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)
