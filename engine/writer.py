"""Group commit: one writer task applies queued commands together in one transaction.

Concurrent requests wait on futures while the writer takes the event counter (which
serialises batches across processes), loads the tasks they touch unless its cache is
still current, applies each command to the in-memory aggregates (rolling back just that
command if it fails), writes the changed columns with a few bulk statements and commits
once. A request is answered only after its commit, so every acknowledged change is
durable; events reach listeners only after the commit, in sequence order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from engine.clock import Clock
from engine.database import Database
from engine.errors import DomainError, NotFound
from engine.eta import Estimate
from engine.eta_watch import flag_slow_steps, learn, stamp_estimates
from engine.events import ChangeSet, Event
from engine.outbox import plan_rows, write_rows
from engine.records import TaskState
from engine.replicas import announce_events
from engine.statistics import StepStats
from engine.store import (
    counter_and_subscriptions,
    ids_for_keys,
    load_step_stats,
    load_tasks,
    lock_event_counter,
    prepare_save,
    queue_step_stats,
    tasks_with_events_between,
)
from engine.subscriptions import Subscription, load_all_subscriptions, subscription_version

log = logging.getLogger(__name__)

EventListener = Callable[[list[Event]], None]
MAX_BATCH = 512
RETRIES = 3
#: Aggregates kept between batches while no other process writes (see `lock_event_counter`).
CACHE_SIZE = 10_000
#: Past this many foreign events since our last batch, drop the whole cache instead.
_STALE_SCAN_LIMIT = 10_000


class Command(Protocol):
    """A change to apply inside a write batch."""

    def task_ids(self) -> Iterable[str]:
        """Existing tasks the command reads or changes."""
        ...

    def idempotency_key(self) -> tuple[int, str] | None:
        """(owner, key) of a create that must not run twice."""
        ...

    def step_scope(self) -> Collection[int] | None:
        """Steps the command may change (None: any), so rollback copies only those."""
        ...

    def apply(self, batch: Batch, changes: ChangeSet) -> Any:
        """Change aggregates in `batch`, record into `changes`, return the caller's result."""
        ...


@dataclass
class Batch:
    """What commands see: the loaded aggregates, the step statistics and the moment."""

    now: datetime
    tasks: dict[str, TaskState]
    by_key: dict[tuple[int, str], TaskState]
    created: list[TaskState] = field(default_factory=list)
    #: Running step statistics (the whole small table), updated as steps complete.
    stats: dict[tuple[str, str], StepStats] = field(default_factory=dict)
    stats_changed: set[tuple[str, str]] = field(default_factory=set)
    #: Estimates computed during the current command, by task id (cleared per command).
    estimates: dict[str, Estimate | None] = field(default_factory=dict)

    def task_for(self, owner_id: int, task_id: str) -> TaskState:
        task = self.tasks.get(task_id)
        if task is None or task.owner_id != owner_id:
            raise NotFound(f"There is no task {task_id}.", field="task_id")
        return task

    def add(self, task: TaskState) -> None:
        self.tasks[task.id] = task
        self.created.append(task)
        if task.idempotency_key is not None:
            self.by_key[(task.owner_id, task.idempotency_key)] = task


@dataclass
class _Item:
    command: Command
    future: asyncio.Future[Any]


class CommandWriter:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        max_batch: int = MAX_BATCH,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._database = database
        self._cache: OrderedDict[str, TaskState] = OrderedDict()
        self._cache_size = cache_size
        #: The event counter when the cache was last known to match the database.
        self._cache_seq = -1
        #: Step statistics as of `_cache_seq`; None when they must be (re)loaded.
        self._stats: dict[tuple[str, str], StepStats] | None = None
        #: Everyone's subscriptions, reloaded when their version row moves.
        self._subscribers = Subscribers(-1, {})
        #: Whether the last batch found no other process's writes: the next may then
        #: apply to the cache first and check at write time (one hop instead of two).
        self._alone = False
        self._clock = clock
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._listeners: list[EventListener] = []
        #: Called after a commit that wrote notification rows (the dispatcher's doorbell).
        self.on_outbox: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False

    def add_listener(self, listener: EventListener) -> None:
        """Called with each committed batch's events, in sequence order."""
        self._listeners.append(listener)

    def start(self) -> None:
        if self._task is None:
            self._begin()

    def _begin(self) -> asyncio.AbstractEventLoop:
        # Kept for `submit`, which makes a future on it for every command.
        loop = self._loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run(), name="tasktalk-writer")
        return loop

    async def close(self) -> None:
        """Finish what is queued, then stop."""
        self._closing = True
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, command: Command) -> Any:
        if self._closing:
            raise RuntimeError("the writer is shutting down")
        loop = self._loop if self._task is not None else None
        if loop is None:
            loop = self._begin()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put_nowait(_Item(command, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._execute(batch)
            except Exception as error:  # never let the writer die
                log.exception("write batch failed")
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _execute(self, batch: list[_Item]) -> None:
        try:
            await self._commit(batch)
        except DBAPIError:
            if len(batch) == 1:
                await self._commit_alone(batch[0])
            else:
                log.warning("batch of %d failed; applying its commands one by one", len(batch))
                for item in batch:
                    await self._commit_alone(item)

    async def _commit_alone(self, item: _Item) -> None:
        for attempt in range(1, RETRIES + 1):
            try:
                await self._commit([item])
                return
            except DBAPIError as error:
                if attempt == RETRIES:
                    item.future.set_exception(error)
                    return
                await asyncio.sleep(0.01 * attempt)

    async def _commit(self, batch: list[_Item]) -> None:
        if self._cache_is_enough(batch):
            try:
                await self._commit_batch(batch, from_cache=True)
                return
            except _CacheStale:
                pass  # someone else wrote meanwhile: load what changed, then apply again
        await self._commit_batch(batch, from_cache=False)

    def _cache_is_enough(self, batch: list[_Item]) -> bool:
        """Whether the batch can start from the cache alone, checked at write time.

        True when the last batch found nobody else writing and every task it touches is
        cached: then loading first would return nothing, and one hop does the batch.
        """
        if not self._alone or self._stats is None or self._subscribers.version < 0:
            return False
        for item in batch:
            command = item.command
            if command.idempotency_key() is not None:
                return False
            for task_id in command.task_ids():
                if task_id not in self._cache:
                    return False
        return True

    async def _commit_batch(self, batch: list[_Item], *, from_cache: bool) -> None:
        """One transaction: load on the database side, apply and prepare here, write there.

        The Python work (commands, documents, rows) runs on the event loop; the writer
        thread only runs SQLite, so the two do not fight over the GIL. `from_cache` skips
        the load: the write step first checks that the counter and the subscriptions are
        still what the cache was built from, else it raises `_CacheStale` (rolled back).
        """
        ids = {task_id for item in batch for task_id in item.command.task_ids()}
        try:
            async with self._database.batch() as transaction:
                keys = {k for item in batch if (k := item.command.idempotency_key()) is not None}
                if from_cache:
                    counter = self._cache_seq
                    tasks = {task_id: self._cache[task_id] for task_id in ids}
                    stats = dict(self._stats or {})
                else:
                    (
                        counter,
                        ids,
                        tasks,
                        loaded_stats,
                        subscribers,
                        changed_elsewhere,
                    ) = await transaction.run(
                        _load_batch,
                        ids,
                        keys,
                        self._cache_seq,
                        frozenset(self._cache),
                        self._stats is not None,
                        self._subscribers.version,
                    )
                    self._alone = counter == self._cache_seq
                    if subscribers is not None:
                        self._subscribers = subscribers
                    for task_id in changed_elsewhere:  # other processes wrote these meanwhile
                        self._cache.pop(task_id, None)
                    stats = dict(self._stats or {}) if loaded_stats is None else loaded_stats
                    for task_id in ids:
                        if task_id not in tasks and task_id in self._cache:
                            tasks[task_id] = self._cache[task_id]
                existing = frozenset(stats)
                by_key = {
                    (t.owner_id, t.idempotency_key): t
                    for t in tasks.values()
                    if t.idempotency_key is not None and (t.owner_id, t.idempotency_key) in keys
                }
                state = Batch(self._clock.now(), tasks, by_key, stats=stats)
                changes = ChangeSet()
                outcomes = [_apply(item.command, state, changes) for item in batch]
                writes, events = prepare_save(
                    state.tasks.values(), changes, counter, sqlite=self._database.is_sqlite
                )
                changed = {key: state.stats[key] for key in state.stats_changed}
                queue_step_stats(writes, changed, existing, state.now)
                deliveries = plan_rows(events, self._subscribers.by_user, state.now)
                if deliveries:
                    writes.then(lambda conn: write_rows(conn, deliveries))
                if events and not self._database.is_sqlite:
                    # Delivered at commit, to every replica LISTENing: they read the log.
                    writes.then(lambda conn: announce_events(conn, events[-1].seq))
                if from_cache:
                    await transaction.finish(
                        _check_then_write, counter, self._subscribers.version, writes.execute
                    )
                else:
                    await transaction.finish(writes.execute)
        except _CacheStale:
            # Only the batch's own aggregates hold its (rolled back) changes: drop those
            # and keep the rest, which the load then refreshes task by task as usual.
            for task_id in ids:
                self._cache.pop(task_id, None)
            self._alone = False
            raise
        except BaseException:
            self._forget()
            raise
        self._cache_seq = events[-1].seq if events else counter
        self._stats = state.stats
        self._remember(state.tasks)
        for item, (ok, value) in zip(batch, outcomes, strict=True):
            if item.future.done():
                continue
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)
        if deliveries and self.on_outbox is not None:
            self.on_outbox()
        if events:
            for listener in self._listeners:
                try:
                    listener(events)
                except Exception:
                    log.exception("event listener failed")

    def _remember(self, tasks: dict[str, TaskState]) -> None:
        for task_id, task in tasks.items():
            self._cache[task_id] = task
            self._cache.move_to_end(task_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _forget(self) -> None:
        """After a failed transaction cached aggregates may hold uncommitted changes: drop all.
        Failures are rare; reloading is cheap."""
        self._cache.clear()
        self._cache_seq = -1
        self._stats = None
        self._subscribers = Subscribers(-1, {})
        self._alone = False


class _CacheStale(Exception):
    """Another process wrote since the cache was current: the batch must load first."""


def _check_then_write(
    conn: Connection,
    counter: int,
    subscriptions_version: int,
    write: Callable[[Connection], None],
) -> None:
    """The write step of a batch applied to the cache alone: the event counter (locked, as
    in `_load_batch`) and the subscriptions must not have moved since; then write."""
    if counter_and_subscriptions(conn) != (counter, subscriptions_version):
        raise _CacheStale
    write(conn)


@dataclass(frozen=True)
class Subscribers:
    version: int
    by_user: dict[int, list[Subscription]]


def _load_batch(
    conn: Connection,
    ids: set[str],
    keys: set[tuple[int, str]],
    cache_seq: int,
    cached: frozenset[str],
    stats_cached: bool,
    subscriptions_version: int,
) -> tuple[
    int,
    set[str],
    dict[str, TaskState],
    dict[tuple[str, str], StepStats] | None,
    Subscribers | None,
    set[str],
]:
    """Lock the counter (serialising batches), find keyed tasks, load what the cache lacks.

    Returns the counter, every task id the batch involves, the tasks loaded, the step
    statistics when the cached ones may be stale (None: the cache is current), the
    subscriptions when they changed since `subscriptions_version` (None: unchanged) and
    the cached task ids other processes changed since our last batch.
    """
    counter = lock_event_counter(conn)
    if keys:
        ids = ids | set(ids_for_keys(conn, keys))
    current = counter == cache_seq
    # Every change to a task writes an event, so the events above our mark name exactly
    # the cached tasks another process changed; a long gap (or no cache) reloads all.
    if current:
        stale: set[str] = set()
    elif cache_seq >= 0 and counter - cache_seq <= _STALE_SCAN_LIMIT:
        stale = tasks_with_events_between(conn, cache_seq, counter)
    else:
        stale = set(cached)
    missing = (ids - cached) | (ids & stale)
    stats = None if current and stats_cached else load_step_stats(conn)
    version = subscription_version(conn)
    subscribers = (
        None
        if version == subscriptions_version
        else Subscribers(version, load_all_subscriptions(conn))
    )
    return counter, ids, load_tasks(conn, missing), stats, subscribers, stale


def _apply(command: Command, batch: Batch, changes: ChangeSet) -> tuple[bool, Any]:
    """Run one command; on a domain error put its tasks back as they were."""
    touched = [t for t in command.task_ids() if t in batch.tasks]
    scope = command.step_scope()
    snapshots = {t: batch.tasks[t].snapshot(scope) for t in touched}
    created_before = len(batch.created)
    own = ChangeSet()
    batch.estimates.clear()
    try:
        result = command.apply(batch, own)
    except Exception as error:
        if not isinstance(error, DomainError):
            log.exception("command %r failed", command)
        batch.tasks.update(snapshots)
        for task in batch.created[created_before:]:
            batch.tasks.pop(task.id, None)
            if task.idempotency_key is not None:
                batch.by_key.pop((task.owner_id, task.idempotency_key), None)
        del batch.created[created_before:]
        return False, error
    tasks = [batch.tasks[t] for t in touched] + batch.created[created_before:]
    flagged = False
    for task in tasks:
        flagged = bool(flag_slow_steps(task, batch.now, batch.stats, own)) or flagged
    if flagged:
        batch.estimates.clear()
    stamp_estimates(tasks, batch.now, batch.stats, own, batch.estimates)
    learn(batch.stats, batch.stats_changed, own.durations)
    changes.extend(own)
    return True, result
