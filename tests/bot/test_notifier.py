"""Notifications: outbox rows written with the change, delivered at least once and exactly
when they should be (quiet hours, long tasks only, rate limits, 429s, dead letters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import ChannelCapabilities, ChannelError
from adapters.memory import InMemoryChannel
from bot.notifier import Notifier
from bot.settings import NotifySettings
from engine import outbox
from engine.accounts import ensure_user
from engine.commands import StepPlan, StepReport, TaskPlan
from engine.states import StepStatus
from engine.subscriptions import QuietHours, Subscription
from tests.conftest import Engine

CRM = TaskPlan(
    "Cellphone Store CRM",
    (
        StepPlan("Create database tables"),
        StepPlan("Generate application UI"),
        StepPlan("Add search and filters", requires_approval=True),
        StepPlan("Configure workflows"),
    ),
)
SETTINGS = NotifySettings(edit_interval_seconds=3, max_attempts=3, retry_base_seconds=2)


def editable(name: str) -> InMemoryChannel:
    return InMemoryChannel(name, ChannelCapabilities(name, True, 4096, True))


@dataclass
class World:
    engine: Engine
    alice: int
    telegram: InMemoryChannel
    slack: InMemoryChannel
    email: InMemoryChannel
    notifier: Notifier

    async def subscribe(self, channel: str, *events: str, **fields: object) -> None:
        address = {"telegram": "42", "slack": "C1", "email": "alice@example.com"}[channel]
        await self.engine.service.subscribe(
            Subscription(self.alice, channel, events, address=address, **fields)  # type: ignore[arg-type]
        )

    async def create(self, plan: TaskPlan = CRM) -> str:
        document, _ = await self.engine.service.create_task(self.alice, plan)
        task_id: str = document["task_id"]
        return task_id

    async def report(self, task_id: str, order: int, **fields: object) -> None:
        await self.engine.service.report_step(self.alice, task_id, order, StepReport(**fields))  # type: ignore[arg-type]

    async def deliver(self) -> int:
        """Run dispatcher rounds until nothing is due; returns how many rows were handled."""
        handled = 0
        while True:
            count = await self.notifier.run_once()
            if not count:
                return handled
            handled += count

    def advance(self, seconds: float) -> None:
        self.engine.clock.advance(seconds)

    async def statuses(self) -> dict[str, int]:
        async with self.engine.database.read() as conn:
            return await outbox.counts(conn)


@pytest.fixture
async def world(engine: Engine) -> World:
    async with engine.database.write() as conn:
        alice = await ensure_user(conn, "alice", engine.clock.now())
    telegram, slack = editable("telegram"), editable("slack")
    email = InMemoryChannel("email", ChannelCapabilities("email", False, 100_000, False))
    channels = {"telegram": telegram, "slack": slack, "email": email}
    notifier = Notifier(
        engine.database, engine.service, channels, SETTINGS, engine.clock, replica="test:1"
    )
    return World(engine, alice.id, telegram, slack, email, notifier)


async def test_the_spec_events_arrive_as_messages_and_progress_as_one_card(world: World) -> None:
    await world.subscribe("telegram", "task_started", "approval_needed", "task_complete")
    crm = await world.create()
    await world.report(crm, 1, status=StepStatus.RUNNING)
    await world.deliver()
    for order in (1, 2):
        await world.report(crm, order, status=StepStatus.COMPLETED)
    await world.report(crm, 3, status=StepStatus.RUNNING)
    world.advance(5)
    await world.deliver()
    await world.engine.service.step_action(world.alice, crm, 3, "approve", "alice")
    for order in (3, 4):
        await world.report(crm, order, status=StepStatus.COMPLETED)
    world.advance(5)
    await world.deliver()

    sent = world.telegram.messages("42")
    [card] = [m for m in sent if m.edits]
    messages = [m for m in sent if m is not card]
    assert [m.current.text for m in messages] == [
        "▶️ Your <b>Cellphone Store CRM task</b> has started.",
        "⚠️ Approval required for Step 3: Add search and filters (Cellphone Store CRM)",
        "✅ Your <b>Cellphone Store CRM</b> is ready!",
    ]
    assert [b.label for b in messages[1].current.buttons] == ["Approve", "Reject"]
    assert card.current.text.startswith("✅ Your <b>Cellphone Store CRM task</b> is complete")
    assert card.current.buttons == ()
    assert len(card.edits) == 2  # started -> waiting for approval -> complete
    assert await world.statuses() == {"delivered": 4}


async def test_300_quick_reports_become_a_handful_of_edits(world: World) -> None:
    await world.subscribe("telegram", "task_complete")
    crm = await world.create()
    await world.report(crm, 1, status=StepStatus.RUNNING)
    for percent in range(300):
        await world.report(crm, 1, progress=percent / 3)
        world.advance(0.05)  # 15 s of reports
        await world.notifier.run_once()
    world.advance(3)
    await world.deliver()
    [card] = world.telegram.messages("42")
    assert 1 <= len(card.edits) <= 7  # one edit per 3 s at most
    assert card.current.text.startswith("📊 Your <b>Cellphone Store CRM task</b> is 25% complete.")


async def test_a_429_holds_that_channel_while_others_keep_flowing(world: World) -> None:
    await world.subscribe("telegram", "task_started", "step_complete")
    await world.subscribe("slack", "task_started", "step_complete")
    crm = await world.create(TaskPlan("CRM", (StepPlan("A"), StepPlan("B"))))
    world.telegram.fail_next(ChannelError("Too Many Requests", permanent=False, retry_after=3))
    await world.report(crm, 1, status=StepStatus.RUNNING)
    await world.deliver()
    assert len(world.slack.transcript("C1")) == 2  # the card and "started"
    telegram_before = world.telegram.transcript("42")
    world.advance(1)
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    await world.deliver()
    assert len(world.slack.transcript("C1")) == 3  # slack went on
    assert world.telegram.transcript("42") == telegram_before  # telegram still waits
    world.advance(2.1)
    await world.deliver()
    assert [t.split(" ")[0] for t in world.telegram.transcript("42")] == ["▶️", "📊", "Step"]
    assert await world.statuses() == {"delivered": 6}


async def test_a_permanent_error_is_dead_after_one_try_and_can_be_replayed(world: World) -> None:
    await world.subscribe("email", "task_started", min_task_minutes=0)
    crm = await world.create()
    world.email.fail_next(ChannelError("550 no such user", permanent=True))
    await world.report(crm, 1, status=StepStatus.RUNNING)
    await world.deliver()
    async with world.engine.database.read() as conn:
        [dead] = await outbox.dead_deliveries(conn, world.alice, 10)
    assert (dead.attempts, dead.last_error, dead.event_type) == (
        1,
        "550 no such user",
        "task_started",
    )
    assert world.email.transcript("alice@example.com") == []
    async with world.engine.database.write() as conn:
        assert await outbox.replay(conn, world.alice, [dead.id], world.engine.clock.now()) == 1
    await world.deliver()
    [email] = world.email.messages("alice@example.com")
    assert (email.message.subject, email.message.plain_text) == (
        "▶️ Cellphone Store CRM has started",
        "▶️ Your Cellphone Store CRM task has started.",
    )


async def test_transient_errors_back_off_then_go_dead(world: World) -> None:
    await world.subscribe("email", "task_started", min_task_minutes=0)
    crm = await world.create()
    for _ in range(3):
        world.email.fail_next(ChannelError("451 try later", permanent=False))
    await world.report(crm, 1, status=StepStatus.RUNNING)
    await world.deliver()
    assert await world.statuses() == {"pending": 1}
    world.advance(0.9)  # the first backoff is 2 s with jitter 0.5-1.5: at least 1 s
    assert await world.deliver() == 0
    world.advance(2.1)
    await world.deliver()  # second try fails: 4 s +- half
    world.advance(6.1)
    await world.deliver()  # third try fails: that was the last
    assert await world.statuses() == {"dead": 1}


async def test_quiet_hours_hold_messages_and_deliver_them_after(world: World) -> None:
    quiet = QuietHours("22:00", "07:00", "Europe/Lisbon")
    await world.subscribe("telegram", "task_complete", quiet_hours=quiet)
    world.engine.clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=UTC))  # 23:30 in Lisbon
    crm = await world.create(TaskPlan("Nightly build", (StepPlan("Build"),)))
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    await world.deliver()
    texts = world.telegram.transcript("42")
    assert [t.split(" ")[0] for t in texts] == ["✅"]  # the card, silently; not the message
    world.engine.clock.set(datetime(2026, 11, 25, 6, 59, tzinfo=UTC))
    assert await world.deliver() == 0
    world.engine.clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))
    await world.deliver()
    assert world.telegram.transcript("42")[-1] == "✅ Your <b>Nightly build</b> is ready!"


async def test_email_only_for_tasks_running_longer_than_n_minutes(world: World) -> None:
    await world.subscribe("email", "task_complete", min_task_minutes=10)
    short = await world.create(TaskPlan("Quick fix", (StepPlan("Fix"),)))
    await world.report(short, 1, status=StepStatus.RUNNING)
    world.advance(120)
    await world.report(short, 1, status=StepStatus.COMPLETED)
    long = await world.create(TaskPlan("Data import", (StepPlan("Import"),)))
    await world.report(long, 1, status=StepStatus.RUNNING)
    world.advance(15 * 60)
    await world.report(long, 1, status=StepStatus.COMPLETED)
    await world.deliver()
    assert [m.message.subject for m in world.email.messages("alice@example.com")] == [
        "✅ Data import is ready"
    ]
    assert await world.statuses() == {"delivered": 1, "dropped": 1}


async def test_unsubscribing_drops_what_was_not_sent_yet(world: World) -> None:
    await world.subscribe("telegram", "task_started")
    crm = await world.create()
    await world.report(crm, 1, status=StepStatus.RUNNING)
    await world.engine.service.unsubscribe(world.alice, channel="telegram")
    await world.deliver()
    assert world.telegram.transcript("42") == []
    assert await world.statuses() == {"dropped": 2}


async def test_after_a_crash_leased_rows_are_taken_back_and_sent_once(world: World) -> None:
    await world.subscribe("email", "task_started", "step_complete", min_task_minutes=0)
    crm = await world.create()
    await world.report(crm, 1, status=StepStatus.RUNNING)
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    async with world.engine.database.write() as conn:  # a round that died after claiming
        claimed = await outbox.claim_due(
            conn,
            world.engine.clock.now(),
            owner="test:1:999",
            lease=timedelta(seconds=60),
            limit=1,
        )
    assert len(claimed) == 1
    reborn = Notifier(
        world.engine.database,
        world.engine.service,
        {"email": world.email},
        SETTINGS,
        world.engine.clock,
        replica="test:1",
    )
    await reborn.start()
    await reborn.stop()
    while await reborn.run_once():
        pass
    assert len(world.email.transcript("alice@example.com")) == 2
    # A second dispatcher finds nothing left: delivered rows are never sent again.
    assert await world.deliver() == 0
    assert world.email.repeats == 0


async def test_a_worker_whose_lease_ran_out_cannot_write_late(world: World) -> None:
    await world.subscribe("email", "task_started", min_task_minutes=0)
    crm = await world.create()
    await world.report(crm, 1, status=StepStatus.RUNNING)
    lease = timedelta(seconds=30)
    async with world.engine.database.write() as conn:
        [first] = await outbox.claim_due(
            conn, world.engine.clock.now(), owner="a:1", lease=lease, limit=5
        )
    world.advance(31)  # replica a froze past its lease; b takes the row over
    async with world.engine.database.write() as conn:
        [second] = await outbox.claim_due(
            conn, world.engine.clock.now(), owner="b:1", lease=lease, limit=5
        )
        assert second.id == first.id
        late = outbox.Outcome(first.id, "a:1", first.event_seq, outbox.DEAD, error="late")
        await outbox.record(conn, [late], world.engine.clock.now())
    assert await world.statuses() == {"pending": 1}  # a's late write changed nothing
    async with world.engine.database.write() as conn:
        done = outbox.Outcome(second.id, "b:1", second.event_seq, outbox.DELIVERED)
        await outbox.record(conn, [done], world.engine.clock.now())
    assert await world.statuses() == {"delivered": 1}
