"""The engine's front door: commands (through the group-commit writer) and queries.

Every surface (REST, WebSocket, chat, CLI) calls this; each method checks that the
task belongs to the caller, so someone else's task looks exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine import (
    commands,
    conversations,
    identities,
    inbound,
    queries,
    retention,
    subscriptions,
)
from engine.accounts import Account, ensure_user
from engine.clock import Clock
from engine.database import Database
from engine.errors import InvalidInput, NotFound
from engine.eta_watch import flag_slow_steps
from engine.events import ChangeSet, Event, LogLine
from engine.progress import control_for, progress_document
from engine.records import TaskState
from engine.subscriptions import Subscription
from engine.writer import Batch, CommandWriter

#: How far a producer's clock may run ahead of ours before its `at` is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    task: dict[str, Any]
    control: str | None
    restarted_as: str | None


@dataclass(frozen=True, slots=True)
class _Create:
    owner_id: int
    plan: commands.TaskPlan

    def task_ids(self) -> Iterable[str]:
        return ()

    def idempotency_key(self) -> tuple[int, str] | None:
        key = self.plan.idempotency_key
        return (self.owner_id, key) if key is not None else None

    def step_scope(self) -> Collection[int] | None:
        return ()

    def apply(self, batch: Batch, changes: ChangeSet) -> tuple[dict[str, Any], bool]:
        key = self.idempotency_key()
        if key is not None and key in batch.by_key:
            return progress_document(
                batch.by_key[key], batch.now, batch.stats, batch.estimates
            ), False
        task = commands.create_task(self.plan, self.owner_id, batch.now, changes)
        batch.add(task)
        return progress_document(task, batch.now, batch.stats, batch.estimates), True


@dataclass(frozen=True, slots=True)
class _Report:
    owner_id: int
    task_id: str
    order: int
    report: commands.StepReport
    at: datetime | None

    def task_ids(self) -> Iterable[str]:
        return (self.task_id,)

    def idempotency_key(self) -> None:
        return None

    def step_scope(self) -> Collection[int] | None:
        return (self.order,)

    def apply(self, batch: Batch, changes: ChangeSet) -> ReportOutcome:
        at = _producer_time(self.at, batch.now)
        task = batch.task_for(self.owner_id, self.task_id)
        control = commands.report_step(task, self.order, self.report, at, changes)
        return ReportOutcome(
            progress_document(task, batch.now, batch.stats, batch.estimates),
            control,
            task.next_task_id,
        )


@dataclass(frozen=True, slots=True)
class _Logs:
    owner_id: int
    task_id: str
    lines: tuple[tuple[str, str, int | None, datetime | None], ...]

    def task_ids(self) -> Iterable[str]:
        return (self.task_id,)

    def idempotency_key(self) -> None:
        return None

    def step_scope(self) -> Collection[int] | None:
        return ()

    def apply(self, batch: Batch, changes: ChangeSet) -> tuple[int, str | None]:
        task = batch.task_for(self.owner_id, self.task_id)
        lines = []
        for index, (message, level, step, at) in enumerate(self.lines):
            if step is not None and step > len(task.steps):
                raise InvalidInput(
                    f"The task has {len(task.steps)} steps; there is no step {step}.",
                    field=f"lines[{index}].step",
                )
            lines.append(LogLine(task.id, step, level, message, _producer_time(at, batch.now)))
        commands.append_logs(task, lines, changes)
        return len(lines), control_for(task, None)


@dataclass(frozen=True, slots=True)
class _TaskAction:
    owner_id: int
    task_id: str
    action: str
    who: str

    def task_ids(self) -> Iterable[str]:
        return (self.task_id,)

    def idempotency_key(self) -> None:
        return None

    def step_scope(self) -> Collection[int] | None:
        return None

    def apply(self, batch: Batch, changes: ChangeSet) -> dict[str, Any]:
        task = batch.task_for(self.owner_id, self.task_id)
        if self.action == "restart":
            fresh = commands.restart(task, self.who, batch.now, changes)
            batch.add(fresh)
            return progress_document(fresh, batch.now, batch.stats, batch.estimates)
        handler = {"pause": commands.pause, "resume": commands.resume, "cancel": commands.cancel}
        handler[self.action](task, self.who, batch.now, changes)
        return progress_document(task, batch.now, batch.stats, batch.estimates)


@dataclass(frozen=True, slots=True)
class _StepAction:
    owner_id: int
    task_id: str
    order: int
    action: str
    who: str
    reason: str | None = None

    def task_ids(self) -> Iterable[str]:
        return (self.task_id,)

    def idempotency_key(self) -> None:
        return None

    def step_scope(self) -> Collection[int] | None:
        return None

    def apply(self, batch: Batch, changes: ChangeSet) -> dict[str, Any]:
        task = batch.task_for(self.owner_id, self.task_id)
        now = batch.now
        if self.action == "reject":
            commands.reject(task, self.order, self.who, self.reason, now, changes)
        else:
            handler = {
                "retry": commands.retry,
                "skip": commands.skip,
                "approve": commands.approve,
            }[self.action]
            handler(task, self.order, self.who, now, changes)
        return progress_document(task, now, batch.stats, batch.estimates)


@dataclass(frozen=True, slots=True)
class _DetectSlow:
    """Announce running steps past their p90 (time passes without reports)."""

    ids: tuple[str, ...]

    def task_ids(self) -> Iterable[str]:
        return self.ids

    def idempotency_key(self) -> None:
        return None

    def step_scope(self) -> Collection[int] | None:
        return None

    def apply(self, batch: Batch, changes: ChangeSet) -> int:
        flagged = 0
        for task_id in self.ids:
            task = batch.tasks.get(task_id)
            if task is not None:
                flagged += len(flag_slow_steps(task, batch.now, batch.stats, changes))
        return flagged


TASK_ACTIONS = ("pause", "resume", "cancel", "restart")
STEP_ACTIONS = ("retry", "skip", "approve", "reject")


class TaskService:
    def __init__(self, database: Database, clock: Clock, writer: CommandWriter) -> None:
        self.database = database
        self.clock = clock
        self.writer = writer

    async def create_task(
        self, owner_id: int, plan: commands.TaskPlan
    ) -> tuple[dict[str, Any], bool]:
        """The new task's document and True, or the existing one's and False for a repeat key."""
        result: tuple[dict[str, Any], bool] = await self.writer.submit(_Create(owner_id, plan))
        return result

    async def report_step(
        self,
        owner_id: int,
        task_id: str,
        order: int,
        report: commands.StepReport,
        at: datetime | None = None,
    ) -> ReportOutcome:
        outcome: ReportOutcome = await self.writer.submit(
            _Report(owner_id, task_id, order, report, at)
        )
        return outcome

    async def append_logs(
        self,
        owner_id: int,
        task_id: str,
        lines: Iterable[tuple[str, str, int | None, datetime | None]],
    ) -> tuple[int, str | None]:
        """Store log lines (message, level, step, at); returns how many and the control word."""
        result: tuple[int, str | None] = await self.writer.submit(
            _Logs(owner_id, task_id, tuple(lines))
        )
        return result

    async def task_action(
        self, owner_id: int, task_id: str, action: str, who: str
    ) -> dict[str, Any]:
        if action not in TASK_ACTIONS:
            raise InvalidInput(f"Unknown action {action!r}.", field="action")
        document: dict[str, Any] = await self.writer.submit(
            _TaskAction(owner_id, task_id, action, who)
        )
        return document

    async def step_action(
        self,
        owner_id: int,
        task_id: str,
        order: int,
        action: str,
        who: str,
        reason: str | None = None,
    ) -> dict[str, Any]:
        if action not in STEP_ACTIONS:
            raise InvalidInput(f"Unknown action {action!r}.", field="action")
        document: dict[str, Any] = await self.writer.submit(
            _StepAction(owner_id, task_id, order, action, who, reason)
        )
        return document

    async def detect_slow_steps(self) -> int:
        """Send `step_slow` for every running step past its p90; for a periodic job.

        Returns how many steps were flagged now (each is flagged once per attempt).
        """
        async with self.database.read() as conn:
            ids = await queries.running_task_ids(conn)
        if not ids:
            return 0
        flagged: int = await self.writer.submit(_DetectSlow(tuple(ids)))
        return flagged

    # --- queries -------------------------------------------------------------------------

    async def task(self, owner_id: int, task_id: str) -> TaskState:
        async with self.database.read() as conn:
            task = await queries.task(conn, owner_id, task_id)
        if task is None:
            raise NotFound(f"There is no task {task_id}.", field="task_id")
        return task

    async def progress(self, owner_id: int, task_id: str) -> dict[str, Any]:
        async with self.database.read() as conn:
            task = await queries.task(conn, owner_id, task_id)
            if task is None:
                raise NotFound(f"There is no task {task_id}.", field="task_id")
            stats = await queries.step_stats(conn, [task.kind or ""])
        return progress_document(task, self.clock.now(), stats)

    async def list_tasks(
        self, owner_id: int, status: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        async with self.database.read() as conn:
            tasks = await queries.tasks(conn, owner_id, status, limit)
            stats = await queries.step_stats(conn, {task.kind or "" for task in tasks})
        now = self.clock.now()
        return [progress_document(task, now, stats) for task in tasks]

    async def history(self, owner_id: int, task_id: str) -> list[dict[str, Any]]:
        async with self.database.read() as conn:
            if not await queries.owns(conn, owner_id, task_id):
                raise NotFound(f"There is no task {task_id}.", field="task_id")
            return await queries.history(conn, task_id)

    async def logs(self, owner_id: int, task_id: str, tail: int) -> list[dict[str, Any]]:
        async with self.database.read() as conn:
            if not await queries.owns(conn, owner_id, task_id):
                raise NotFound(f"There is no task {task_id}.", field="task_id")
            return await queries.logs(conn, task_id, tail)

    async def owns(self, owner_id: int, task_id: str) -> bool:
        async with self.database.read() as conn:
            return await queries.owns(conn, owner_id, task_id)

    async def events_between(
        self, owner_id: int, after: int, upto: int, task_id: str | None = None
    ) -> list[Event]:
        async with self.database.read() as conn:
            return await queries.events_between(conn, owner_id, after, upto, task_id)

    async def events_after(self, after: int, limit: int = 1000) -> list[Event]:
        async with self.database.read() as conn:
            return await queries.events_after(conn, after, limit)

    async def last_seq(self) -> int:
        async with self.database.read() as conn:
            return await queries.last_seq(conn)

    async def task_summaries(
        self, owner_id: int, limit: int
    ) -> tuple[int, list[tuple[str, str, str, datetime, str]]]:
        """The owner's last event seq and (id, title, status, updated_at, kind) of their most
        recently updated tasks, from one snapshot: a chat's candidates and their version."""
        async with self.database.read() as conn:
            seq = await queries.owner_last_seq(conn, owner_id)
            return seq, await queries.task_summaries(conn, owner_id, limit)

    async def recent_events(
        self,
        owner_id: int,
        *,
        after: int,
        since: datetime | None,
        types: Collection[str],
        limit: int,
    ) -> list[Event]:
        """The owner's newest events of `types` after seq `after` and time `since`."""
        async with self.database.read() as conn:
            return await queries.recent_events(
                conn, owner_id, after=after, since=since, types=types, limit=limit
            )

    async def apply_retention(self, *, history_days: int, outbox_days: int) -> dict[str, int]:
        """Delete what is past retention (see engine.retention); returns counts."""
        async with self.database.write() as conn:
            return await retention.apply_retention(
                conn, self.clock.now(), history_days=history_days, outbox_days=outbox_days
            )

    async def conversation_state(self, key: str) -> str | None:
        async with self.database.read() as conn:
            return await conversations.load_state(conn, key)

    async def save_conversation_state(self, key: str, state: str) -> None:
        async with self.database.write() as conn:
            await conversations.save_state(conn, key, state, self.clock.now())

    async def first_time(self, source: str, key: str) -> bool:
        """True the first time any replica sees this delivery (see engine.inbound)."""
        async with self.database.write() as conn:
            return await inbound.first_time(conn, source, key, self.clock.now())

    # --- chat identities --------------------------------------------------------------------

    async def link_code(self, name: str) -> tuple[str, Account]:
        """A one-time code that links a chat identity to user `name` (see engine.identities)."""
        async with self.database.write() as conn:
            return await identities.create_link_code(conn, name, self.clock.now())

    async def redeem_link_code(
        self, code: str, channel: str, external_id: str, address: str | None
    ) -> Account | None:
        async with self.database.write() as conn:
            return await identities.redeem_link_code(
                conn, code, channel, external_id, address, self.clock.now()
            )

    async def link_identity(
        self, name: str, channel: str, external_id: str, address: str | None
    ) -> Account:
        async with self.database.write() as conn:
            account = await ensure_user(conn, name, self.clock.now())
            await identities.link_identity(
                conn, account.id, channel, external_id, address, self.clock.now()
            )
            return account

    async def account_for_identity(
        self, channel: str, external_id: str
    ) -> tuple[Account, str | None] | None:
        async with self.database.read() as conn:
            return await identities.account_for_identity(conn, channel, external_id)

    async def identity_address(self, user_id: int, channel: str) -> str | None:
        async with self.database.read() as conn:
            return await identities.identity_address(conn, user_id, channel)

    # --- subscriptions --------------------------------------------------------------------

    async def subscribe(self, wanted: Subscription) -> Subscription:
        """Create or replace the subscription for its user, channel and scope."""
        async with self.database.write() as conn:
            if wanted.task_id is not None and not await queries.owns(
                conn, wanted.user_id, wanted.task_id
            ):
                raise NotFound(f"There is no task {wanted.task_id}.", field="task_id")
            return await subscriptions.put_subscription(conn, wanted, self.clock.now())

    async def unsubscribe(
        self, user_id: int, *, channel: str | None = None, task_id: str | None = None
    ) -> list[Subscription]:
        """Remove matching subscriptions (None matches any); returns the removed ones."""
        async with self.database.write() as conn:
            return await subscriptions.delete_subscriptions(
                conn, user_id, channel=channel, task_id=task_id
            )

    async def subscriptions(self, user_id: int) -> list[Subscription]:
        async with self.database.read() as conn:
            return await subscriptions.subscriptions_of(conn, user_id)

    async def owner_last_seq(self, owner_id: int) -> int:
        async with self.database.read() as conn:
            return await queries.owner_last_seq(conn, owner_id)


def _producer_time(at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if at > now + MAX_CLOCK_SKEW:
        raise InvalidInput(
            f"`at` is {at.isoformat()}, more than 5 minutes after the server's clock.",
            field="at",
        )
    return at
