"""parse(): the spec's own examples, arguments, compounds and robustness."""

from __future__ import annotations

import pytest

from intents import DESTRUCTIVE, Intent, IntentName, parse
from intents.clauses import CLAUSE_RULES, best_rule
from intents.text import tokenize
from tests.intents.phrasings import PHRASINGS
from tests.intents.test_accuracy import SETS

N = IntentName


def names(text: str) -> list[str]:
    return [intent.name.value for intent in parse(text)]


def only(text: str) -> Intent:
    intents = parse(text)
    assert len(intents) == 1, intents
    return intents[0]


@pytest.mark.parametrize(
    ("text", "name", "reference"),
    [
        ("How's my CRM task going?", N.STATUS, "my crm task"),
        ("Status of my CRM task", N.STATUS, "my crm task"),
        ("Show logs for my CRM task", N.LOGS, "my crm task"),
        ("is the CRM done yet?", N.STATUS, "the crm"),
        ("when will the CRM be done?", N.ETA, "the crm"),
        ("what's running?", N.LIST, None),
        ("status of task 3f9a2c", N.STATUS, "task 3f9a2c"),
        ("how is the crm one doing", N.STATUS, "the crm one"),
        ("cancel that", N.CANCEL, "that"),
        ("pause it", N.PAUSE, "it"),
    ],
)
def test_spec_examples(text: str, name: IntentName, reference: str | None) -> None:
    intent = only(text)
    assert (intent.name, intent.reference) == (name, reference)
    assert 0.5 <= intent.confidence <= 1.0


def test_cancel_and_start_over_is_one_restart() -> None:
    """The engine's restart is cancel + new attempt: one command, one confirmation."""
    intent = only("Cancel my CRM task and start over")
    assert intent.name is N.RESTART
    assert intent.reference == "my crm task"
    assert intent.destructive


def test_compound_shares_the_task() -> None:
    pause, logs = parse("pause the build and show me its logs")
    assert (pause.name, logs.name) == (N.PAUSE, N.LOGS)
    assert pause.reference == logs.reference == "the build"


def test_later_task_fills_an_earlier_gap() -> None:
    approve, resume = parse("approve step 3 and then resume the crm")
    assert approve.step is not None and approve.step.number == 3
    assert approve.reference == resume.reference == "the crm"


def test_arguments() -> None:
    assert only("last 20 lines of the build log").arguments == {"lines": 20}
    reject = only("reject step 3 because the filters are wrong")
    assert reject.step is not None and reject.step.number == 3
    assert reject.arguments == {"reason": "the filters are wrong"}
    subscribe = only("notify me by email when it finishes")
    assert subscribe.arguments == {"channel": "email", "event": "task_complete"}
    assert only("stop notifying me").name is N.UNSUBSCRIBE
    assert only("which tasks are paused?").arguments == {"status": "paused"}


@pytest.mark.parametrize(
    ("text", "number", "name", "special"),
    [
        ("retry step 2", 2, None, None),
        ("retry step two", 2, None, None),
        ("skip the second step", 2, None, None),
        ("skip the filters step", None, "filters", None),
        ("retry the failed step", None, None, "failed"),
        ("skip this step", None, None, "current"),
    ],
)
def test_step_references(
    text: str, number: int | None, name: str | None, special: str | None
) -> None:
    step = only(text).step
    assert step is not None
    assert (step.number, step.name, step.special) == (number, name, special)


@pytest.mark.parametrize(
    "text",
    [
        "cancle the build",
        "CANCEL THE BUILD!!!",
        "um, could you please cancel the build 🙏",
        "hey cancel the build",
        "Cancel   the build.",
    ],
)
def test_robust_to_noise(text: str) -> None:
    intent = only(text)
    assert (intent.name, intent.reference) == (N.CANCEL, "the build")


def test_typos_lower_confidence() -> None:
    assert only("statsu of the build").confidence < only("status of the build").confidence


@pytest.mark.parametrize("text", ["", "   ", "🍕", "what's the weather in Paris", "banana"])
def test_unknown(text: str) -> None:
    assert names(text) == ["unknown"]


def test_social_words_give_way_to_commands() -> None:
    assert names("hi") == ["greeting"]
    assert names("thanks!") == ["thanks"]
    assert names("hey, thanks, now pause the build") == ["pause"]


def test_destructive_flag() -> None:
    assert {name for name in N if Intent(name, 1.0).destructive} == DESTRUCTIVE
    assert {N.CANCEL, N.RESTART, N.REJECT, N.SKIP} == DESTRUCTIVE


def test_typo_correction_leaves_ordinary_words_alone() -> None:
    tokens = tokenize("I'll take the last one, along with the sales data, if it fails")
    assert tokens.corrections == 0


def test_word_prefilter_picks_what_trying_every_rule_picks() -> None:
    """_best_rule only tries rules sharing a word with the clause; check that loses nothing."""
    for text, *_ in (row for rows in SETS.values() for row in rows):
        clause = " ".join(w for w in tokenize(text).words if w not in ",;.!?")
        fast = best_rule(clause)
        slow = best_rule(clause, CLAUSE_RULES)
        assert (fast and fast[0]) == (slow and slow[0]), text


def test_parse_is_deterministic() -> None:
    for text, *_ in PHRASINGS[:50]:
        assert parse(text) == parse(text)


def test_correction_takes_back_what_came_before() -> None:
    (intent,) = parse("Cancel the build? No wait, pause it")
    assert (intent.name, intent.reference) == (N.PAUSE, "the build")


def test_step_list_repeats_the_command() -> None:
    first, second = parse("approve step 1 and step 2")
    assert first.name is second.name is N.APPROVE
    assert (first.step and first.step.number, second.step and second.step.number) == (1, 2)


def test_long_messages_are_cut_not_slow() -> None:
    import time

    start = time.perf_counter()
    parse("cancel " * 5000 + "and start over")
    assert time.perf_counter() - start < 0.5


def test_a_command_asked_not_to_be_done_is_dropped() -> None:
    (intent,) = parse("don't cancel the crm, just pause it")
    assert (intent.name, intent.reference) == (N.PAUSE, "the crm")
    assert names("don't cancel the crm") == ["unknown"]


def test_a_remark_after_a_command_does_not_repeat_it() -> None:
    assert names("pause the crm please, it's hammering the db") == ["pause"]
    assert names("pause the crm and the build") == ["pause", "pause"]


def test_cancel_then_restart_of_another_task_is_two_commands() -> None:
    first, second = parse("cancel the crm then restart the build")
    assert (first.name, first.reference) == (N.CANCEL, "the crm")
    assert (second.name, second.reference) == (N.RESTART, "the build")
    assert names("cancel and restart the api deploy") == ["restart"]


def test_of_joins_one_task_phrase() -> None:
    assert only("how is the deployment of the website").reference == (
        "the deployment of the website"
    )


def test_small_talk_about_the_weather_is_not_a_status_question() -> None:
    assert names("how's the weather") == ["unknown"]
    assert names("tell me about the football") == ["unknown"]


def test_inflected_and_stretched_command_words() -> None:
    assert only("i'm rejecting the report").name is N.REJECT
    assert only("has the website been resumed?").name is N.STATUS
    assert only("heyyy").name is N.GREETING


def test_word_prefilter_on_random_word_salad() -> None:
    """Clauses made of the rules' own words, in random order, exercise every rule."""
    import random

    rng = random.Random(4)
    vocabulary = sorted({w for rule in CLAUSE_RULES for w in rule.literals} | {"the", "crm"})
    for _ in range(3000):
        clause = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 7)))
        fast = best_rule(clause)
        slow = best_rule(clause, CLAUSE_RULES)
        assert (fast and fast[0]) == (slow and slow[0]), clause


def test_a_second_request_without_and_is_split_off() -> None:
    assert names("pause the crm show me the logs") == ["pause", "logs"]
    assert names("please temporarily stop the crm task") == ["pause"]


def test_a_task_named_by_its_state() -> None:
    assert only("retry the task that failed").reference == "the task that failed"
    assert only("approve the one waiting for approval").reference == (
        "the one waiting for approval"
    )


def test_a_channel_word_inside_a_task_name_is_no_channel() -> None:
    assert "channel" not in only("notify me when the email campaign finishes").arguments
    assert only("stop the emails about the crm").arguments["channel"] == "email"


def test_remarks_and_conditions_give_way_to_requests() -> None:
    assert names("ugh the migration failed again, show me the logs") == ["logs"]
    assert names("if the build is done, restart the migration") == ["restart"]
    assert names("approve the report, all good") == ["approve"]


def test_parts_of_one_request_are_merged() -> None:
    (intent,) = parse("the build log, last 20 lines")
    assert (intent.name, intent.arguments["lines"]) == (N.LOGS, 20)
    (intent,) = parse("step 2 looks good, approve it")
    assert intent.step is not None and intent.step.number == 2
    assert names("what's running and what's failed") == ["list", "list"]


def test_a_condition_gives_its_event_to_the_subscription() -> None:
    (intent,) = parse("if the build fails, notify me by email")
    assert intent.name is N.SUBSCRIBE
    assert dict(intent.arguments) == {"channel": "email", "event": "task_failed"}
    assert names("when will the crm be done") == ["eta"]


def test_a_subscription_to_a_step_is_about_the_task_talked_about() -> None:
    (intent,) = parse("tell me when step 3 is done")
    assert (intent.name, intent.reference) == (N.SUBSCRIBE, "it")


def test_chat_markup_is_read_as_the_person_meant_it() -> None:
    assert only("~cancel~ pause the campaign").name is N.PAUSE
    assert only("how's <https://ci.example.com/builds/42|the nightly build>").reference == (
        "the nightly build"
    )
    assert only("cancelthe api deploy").reference == "the api deploy"


def test_a_remark_before_a_request_gives_way_to_it() -> None:
    assert names("ugh the api deploy is stuck again, restart it") == ["restart"]
    assert names("before you restart the build, show me the logs") == ["logs", "restart"]
    assert names("pause my campaign, not the newsletter") == ["pause"]
