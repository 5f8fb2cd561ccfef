"""The conversation as a person meets it: exact replies, buttons, and what the engine did."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from bot.chat_actions import Speaker
from bot.chat_text import Format
from bot.conversation import Conversation
from engine.accounts import ensure_user
from engine.commands import StepPlan, StepReport, SubstepReport, TaskPlan
from engine.states import StepStatus, SubstepStatus
from tests.bot.chat_transcript import Chat
from tests.conftest import Engine

CRM = TaskPlan(
    "Cellphone Store CRM",
    (
        StepPlan("Create database tables"),
        StepPlan(
            "Generate application UI",
            substeps=("Customer list view", "Product list view", "Sales form", "Repair board"),
        ),
        StepPlan("Add search and filters", requires_approval=True),
        StepPlan("Configure workflows"),
    ),
    kind="crm-app",
)


def plan(title: str, *steps: str) -> TaskPlan:
    return TaskPlan(title, tuple(StepPlan(name) for name in steps or ("Run",)))


@dataclass
class World:
    engine: Engine
    conversation: Conversation
    alice: Speaker
    bob: Speaker

    async def create(self, task: TaskPlan, owner: Speaker | None = None) -> str:
        owner = owner or self.alice
        document, _ = await self.engine.service.create_task(owner.user_id, task)
        task_id: str = document["task_id"]
        return task_id

    async def report(
        self, task_id: str, order: int, owner: Speaker | None = None, **fields: object
    ) -> None:
        owner = owner or self.alice
        await self.engine.service.report_step(owner.user_id, task_id, order, StepReport(**fields))  # type: ignore[arg-type]

    async def status(self, task_id: str, owner: Speaker | None = None) -> str:
        owner = owner or self.alice
        document = await self.engine.service.progress(owner.user_id, task_id)
        return str(document["status"])

    def chat(self, speaker: Speaker | None = None, fmt: Format = Format.PLAIN) -> Chat:
        return Chat(self.conversation, speaker or self.alice, fmt=fmt)


@pytest.fixture
async def world(engine: Engine) -> World:
    async with engine.database.write() as conn:
        alice = await ensure_user(conn, "alice", engine.clock.now())
        bob = await ensure_user(conn, "bob", engine.clock.now())
    return World(
        engine,
        Conversation(engine.service),
        Speaker(alice.id, "alice"),
        Speaker(bob.id, "bob"),
    )


async def crm_at_the_spec_moment(world: World) -> str:
    """The spec's example: step 2 of 4 running, two of four substeps done."""
    crm = await world.create(CRM)
    await world.report(crm, 1, status=StepStatus.RUNNING)
    world.engine.clock.advance(60)
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    done = SubstepStatus.COMPLETED
    await world.report(
        crm,
        2,
        status=StepStatus.RUNNING,
        progress=50,
        substeps=(
            SubstepReport("Customer list view", done),
            SubstepReport("Product list view", done),
        ),
    )
    return crm


async def test_how_is_my_crm_task_going(world: World) -> None:
    await crm_at_the_spec_moment(world)
    chat = world.chat()
    reply, eta = (await chat.say("How's my CRM task going?")).rsplit("\n\n", 1)
    assert reply == (
        "📊 Your Cellphone Store CRM task is 38% complete.\n"
        "\n"
        "Currently: Generating application UI\n"
        "- ✓ Customer list view\n"
        "- ✓ Product list view\n"
        "- ⏳ Sales form (in progress)\n"
        "- ⏳ Repair board"
    )
    # The figures are engine.eta's (tested there); the words are the template's.
    assert re.fullmatch(r"ETA: About \d+ minutes? remaining \(.+\)\.", eta), eta
    assert chat.labels == ["Pause", "Cancel"]
    assert chat.channel.transcript("alice")[-1].startswith("📊 Your Cellphone Store CRM task")


async def test_it_means_the_task_last_talked_about(world: World) -> None:
    crm = await crm_at_the_spec_moment(world)
    await world.create(plan("Nightly build"))
    chat = world.chat()
    await chat.say("status of the crm")
    assert await chat.say("pause it") == (
        "⏸ Paused your Cellphone Store CRM task at 38%. It stops at its next checkpoint."
    )
    assert chat.labels == ["Resume", "Cancel"]
    assert await world.status(crm) == "paused"
    assert await chat.press("Resume") == "▶️ Resumed your Cellphone Store CRM task."
    assert await world.status(crm) == "running"


async def test_a_compound_message_acts_on_the_task_it_names(world: World) -> None:
    await world.create(plan("Cellphone Store CRM"))
    build = await world.create(plan("Nightly build", "Compile", "Test"))
    await world.report(build, 1, status=StepStatus.RUNNING)
    await world.engine.service.append_logs(
        world.alice.user_id, build, [("compiling <core>", "info", 1, None)]
    )
    chat = world.chat()
    reply = await chat.say("pause the nightly bulid and show me its logs")
    assert reply == (
        "⏸ Paused your Nightly build task at 0%. It stops at its next checkpoint.\n"
        "\n"
        "📜 The last log line of your Nightly build task:\n"
        "10:00:00 INFO [step 1] compiling <core>"
    )
    assert await world.status(build) == "paused"


async def test_two_matching_tasks_are_asked_about_and_the_answer_acts(world: World) -> None:
    web = await world.create(plan("Website deploy"))
    api = await world.create(plan("API deploy"))
    for task_id in (web, api):
        world.engine.clock.advance(5)
        await world.report(task_id, 1, status=StepStatus.RUNNING)
    chat = world.chat()
    question = await chat.say("pause the deploy")
    assert question.splitlines()[0] == "Which task do you want me to pause?"
    assert [line[:20] for line in question.splitlines()[1:]] == [
        "1. API deploy: runni",
        "2. Website deploy: r",
    ]
    assert chat.labels == ["API deploy", "Website deploy"]
    assert (await world.status(web), await world.status(api)) == ("running", "running")

    assert await chat.say("the second one") == (
        "⏸ Paused your Website deploy task at 0%. It stops at its next checkpoint."
    )
    assert (await world.status(web), await world.status(api)) == ("paused", "running")


async def test_a_question_can_be_answered_with_its_button(world: World) -> None:
    web = await world.create(plan("Website deploy"))
    api = await world.create(plan("API deploy"))
    chat = world.chat()
    await chat.say("show me the deploy logs and pause it")
    reply = await chat.press("API deploy")
    assert reply.splitlines()[0] == "📜 Your API deploy task has no log lines yet."
    assert reply.splitlines()[-1].startswith("⏸ Paused your API deploy task")
    assert (await world.status(web), await world.status(api)) == ("pending", "paused")


async def test_destructive_commands_never_act_on_an_unclear_task(world: World) -> None:
    web = await world.create(plan("Website deploy"))
    api = await world.create(plan("API deploy"))
    chat = world.chat()
    assert (await chat.say("cancel the deploy")).startswith("Which task do you want me to cancel?")
    assert await chat.say("no") == "OK, I'll leave it as it is."
    assert (await world.status(web), await world.status(api)) == ("pending", "pending")
    # A question left unanswered is not answered by the next unrelated message.
    await chat.say("cancel the deploy")
    await chat.say("what's running?")
    assert await chat.say("2") == (
        "Sorry, I didn't understand that. I can report on and control your tasks: "
        "try “How's my CRM task going?”, or say “help”."
    )
    assert (await world.status(web), await world.status(api)) == ("pending", "pending")


async def test_a_fuzzy_match_is_confirmed_before_cancelling(world: World) -> None:
    build = await world.create(plan("Nightly build"))
    await world.create(plan("Cellphone Store CRM"))
    chat = world.chat()
    assert await chat.say("cancel the nightly bulid") == (
        "Do you want me to cancel your Nightly build task? It is 0% complete (not started)."
    )
    assert chat.labels == ["Cancel", "No"]
    assert await world.status(build) == "pending"
    assert await chat.say("yes") == "✕ Cancelled your Nightly build task at 0%."
    assert await world.status(build) == "cancelled"


async def test_an_unknown_task_is_said_and_the_active_ones_listed(world: World) -> None:
    crm = await world.create(plan("Cellphone Store CRM"))
    chat = world.chat()
    reply = await chat.say("cancel the payroll export")
    assert reply == (
        "I couldn't find a task of yours called “the payroll export”.\n"
        "Your active tasks:\n"
        f"- Cellphone Store CRM: not started · task {crm[:6]}"
    )
    assert await world.status(crm) == "pending"


async def test_other_peoples_tasks_are_invisible_by_name_and_by_button(world: World) -> None:
    crm = await world.create(plan("Cellphone Store CRM"))
    await world.report(crm, 1, status=StepStatus.RUNNING)
    bob = world.chat(world.bob)
    assert await bob.say("cancel alice's CRM task") == (
        "I couldn't find a task of yours called “alice crm task”.\n"
        "You have no active tasks right now."
    )
    alice = world.chat()
    await alice.say("how's the crm going?")
    cancel = next(b for b in alice.buttons if b.action == "cancel")
    assert (await bob.press_button(cancel)).startswith("I couldn't find a task of yours")
    assert await world.status(crm) == "running"


async def test_an_illegal_command_gets_the_engines_reason(world: World) -> None:
    crm = await world.create(plan("Cellphone Store CRM"))
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    chat = world.chat()
    assert (await chat.say("how's my crm task?")).startswith(
        "✅ Your Cellphone Store CRM task is complete"
    )
    assert chat.labels == []
    assert await chat.say("pause it") == (
        '🚫 The "Cellphone Store CRM" task is already completed, so it can\'t be paused.'
    )


async def test_approve_and_reject_the_waiting_step(world: World) -> None:
    crm = await world.create(CRM)
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    await world.report(crm, 2, status=StepStatus.COMPLETED)
    await world.report(crm, 3, status=StepStatus.RUNNING)
    chat = world.chat()
    status = await chat.say("how's the crm?")
    assert "⚠️ Waiting for your approval: step 3, Add search and filters" in status
    assert chat.labels == ["Approve", "Reject", "Pause", "Cancel"]
    assert await chat.say("approve it") == (
        "✅ Approved step 3 of your Cellphone Store CRM task: Add search and filters."
    )
    assert await world.status(crm) == "running"

    retry = await world.create(CRM)
    for order in (1, 2, 3):
        await world.report(
            retry, order, status=StepStatus.RUNNING if order == 3 else StepStatus.COMPLETED
        )
    assert await chat.say(f"reject step 3 of task {retry[:6]} because the filters are wrong") == (
        "❌ Rejected step 3 of your Cellphone Store CRM task: Add search and filters. "
        "Reason: the filters are wrong"
    )
    document = await world.engine.service.progress(world.alice.user_id, retry)
    assert (document["status"], document["steps"][2]["error"]) == (
        "failed",
        "the filters are wrong",
    )
    assert chat.labels == ["Retry", "Skip", "Pause", "Cancel", "Restart"]
    assert await chat.say("approve it") == (
        "Your Cellphone Store CRM task has no step waiting for approval right now."
    )


async def test_cancel_and_start_over_moves_the_conversation_to_the_new_attempt(
    world: World,
) -> None:
    crm = await crm_at_the_spec_moment(world)
    chat = world.chat()
    reply = await chat.say("Cancel my CRM task and start over")
    document = await world.engine.service.progress(world.alice.user_id, crm)
    fresh = document["next_task_id"]
    assert reply == f"🔁 Started your Cellphone Store CRM task over as task {fresh[:6]}."
    assert document["status"] == "cancelled"
    assert (
        await chat.say("how's it going?") == "📊 Your Cellphone Store CRM task hasn't started yet."
    )


async def test_what_changed_since_i_last_asked(world: World) -> None:
    crm = await world.create(plan("Cellphone Store CRM", "Tables", "UI"))
    await world.report(crm, 1, status=StepStatus.RUNNING)
    chat = world.chat()
    assert await chat.say("what changed since I last asked?") == (
        "In the last hour:\n- ▶️ Your Cellphone Store CRM task has started."
    )
    assert await chat.say("anything new?") == "Nothing has changed since you last asked."
    await world.report(crm, 1, status=StepStatus.COMPLETED, progress=100)
    await world.report(crm, 2, status=StepStatus.COMPLETED)
    assert await chat.say("what changed since I last asked?") == (
        "Since you last asked:\n"
        "- Cellphone Store CRM: Step 1 complete: Tables\n"
        "- Cellphone Store CRM: Step 2 complete: UI\n"
        "- ✅ Your Cellphone Store CRM is ready!"
    )


async def test_what_is_running_lists_only_running_tasks(world: World) -> None:
    crm = await world.create(plan("Cellphone Store CRM", "A", "B"))
    await world.report(crm, 1, status=StepStatus.COMPLETED)
    await world.create(plan("Nightly build"))
    chat = world.chat()
    assert await chat.say("what's running?") == (
        f"Your running tasks:\n⏳ Cellphone Store CRM: 50%, running, step 2 of 2 · task {crm[:6]}"
    )
    assert (await chat.say("list my tasks")).splitlines()[0] == "Your tasks:"
    assert await chat.say("which tasks are paused?") == "You have no paused tasks."


async def test_a_task_name_alone_asks_how_it_is_going(world: World) -> None:
    await world.create(plan("Nightly build"))
    chat = world.chat()
    assert await chat.say("nightly build") == "📊 Your Nightly build task hasn't started yet."


async def test_help_greeting_thanks_and_nonsense(world: World) -> None:
    chat = world.chat()
    assert (await chat.say("hi!")) == (
        "👋 Hi alice! Ask me how a task is going, or say “help” to see what I can do."
    )
    assert (await chat.say("what can you do?")).startswith(
        "I can tell you how your tasks are going"
    )
    assert await chat.say("thanks!") == "You're welcome!"
    assert (await chat.say("play some music")).startswith("Sorry, I didn't understand that.")


@pytest.mark.parametrize(
    ("fmt", "title_line"),
    [
        (Format.PLAIN, "📊 Your <!channel> <b>x</b> & co task hasn't started yet."),
        (
            Format.SLACK,
            "📊 Your *&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp; co task* hasn't started yet.",
        ),
        (
            Format.TELEGRAM,
            "📊 Your <b>&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp; co task</b> hasn't started"
            " yet.",
        ),
    ],
)
async def test_hostile_titles_stay_literal_in_every_format(
    world: World, fmt: Format, title_line: str
) -> None:
    await world.create(plan("<!channel> <b>x</b> & co"))
    chat = world.chat(fmt=fmt)
    assert await chat.say("status") == title_line
    assert (await chat.say("pause it")).startswith(title_line.split(" Your ")[0].replace("📊", "⏸"))


async def test_the_next_message_may_land_on_another_replica(world: World) -> None:
    """Memory lives in the database: 'it' and a pending question survive a replica switch."""
    web = await world.create(plan("Website deploy"))
    api = await world.create(plan("API deploy"))
    first, second = world.chat(), Chat(Conversation(world.engine.service), world.alice)
    await first.say("how's the website deploy?")
    assert (await second.say("pause it")).startswith("⏸ Paused your Website deploy task")
    assert (await first.say("cancel the deploy")).startswith("Which task do you want me to cancel?")
    assert await second.say("the api one") == "✕ Cancelled your API deploy task at 0%."
    assert (await world.status(web), await world.status(api)) == ("paused", "cancelled")


async def test_an_old_question_is_not_answered_by_a_late_reply(world: World) -> None:
    await world.create(plan("Website deploy"))
    await world.create(plan("API deploy"))
    chat = world.chat()
    await chat.say("cancel the deploy")
    world.engine.clock.advance(16 * 60)
    assert (await chat.say("2")).startswith("Sorry, I didn't understand that.")
