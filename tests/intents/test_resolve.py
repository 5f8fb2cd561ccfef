"""resolve(): ids, titles, typos, activity, hints, context; ambiguity is asked, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intents import Basis, Candidate, CandidateIndex, Outcome, parse, resolve
from tests.intents.phrasings import TASKS

CANDIDATES = list(TASKS.values())
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def found(reference: str | None, last: str | None = None) -> str:
    resolution = resolve(reference, CANDIDATES, last)
    assert resolution.outcome is Outcome.FOUND, resolution
    assert resolution.task is not None
    return next(key for key, task in TASKS.items() if task == resolution.task)


def test_by_id_prefix() -> None:
    assert found("task 3f9a2c") == "build"
    assert found("3f9b") == "build_old"
    assert resolve("a41f", CANDIDATES).basis is Basis.ID


def test_short_or_shared_id_prefix_is_not_a_guess() -> None:
    assert resolve("task 3f9", CANDIDATES).outcome is not Outcome.FOUND
    none = resolve("task 9999", CANDIDATES)
    assert none.outcome is Outcome.NOT_FOUND
    assert none.options and all(option.active for option in none.options)


def test_by_title_words_case_accents_and_typos() -> None:
    assert found("my CRM task") == "crm"  # CRM import matches too, but is finished
    assert found("the crm import") == "crm_import"
    assert found("the CAFE menu") == "cafe"
    assert found("the café export") == "cafe"
    assert found("the celphone store") == "crm"
    assert found("the nighlty bulid") == "build"
    assert found("the deployment of the website") == "site"


def test_equal_matches_are_ambiguous_with_ordered_options() -> None:
    resolution = resolve("the deploy", CANDIDATES)
    assert resolution.outcome is Outcome.AMBIGUOUS
    assert resolution.task is None
    assert [option.title for option in resolution.options] == [
        "Deploy API server",
        "Deploy website",
    ]


def test_only_active_of_equal_titles_is_taken_but_not_clear() -> None:
    resolution = resolve("the nightly build", CANDIDATES)
    assert resolution.task == TASKS["build"]
    assert resolution.basis is Basis.ACTIVE
    assert not resolution.clear  # a destructive command should confirm first


def test_hints_pick_older_or_newer() -> None:
    assert found("the old nightly build") == "build_old"
    assert found("yesterday's nightly build") == "build_old"
    assert resolve("the old nightly build", CANDIDATES).basis is Basis.HINT


def test_pronouns_and_missing_reference_use_context() -> None:
    assert found("it", TASKS["site"].id) == "site"
    assert found("that", TASKS["crm"].id) == "crm"
    assert found(None, TASKS["crm"].id) == "crm"
    assert resolve("it", CANDIDATES, TASKS["crm"].id).basis is Basis.CONTEXT
    unclear = resolve("it", CANDIDATES)
    assert unclear.outcome is Outcome.AMBIGUOUS
    assert unclear.options[0].updated_at >= unclear.options[-1].updated_at


def test_someone_elses_task_is_not_found() -> None:
    for reference in ("bob's payroll task", "the invoice generator", "the payroll export"):
        resolution = resolve(reference, CANDIDATES)
        assert resolution.outcome is Outcome.NOT_FOUND, reference
        assert TASKS["crm"] in resolution.options
        assert TASKS["crm_import"] not in resolution.options  # finished tasks are not offered


def test_no_candidates() -> None:
    assert resolve("the crm", []).outcome is Outcome.NOT_FOUND
    assert resolve(None, []).outcome is Outcome.NOT_FOUND


def test_single_active_task_without_reference() -> None:
    task = Candidate("ab12ab12", "Only one", "running", NOW)
    done = Candidate("cd34cd34", "Old one", "completed", NOW - timedelta(days=1))
    resolution = resolve(None, [task, done])
    assert (resolution.task, resolution.basis) == (task, Basis.ONLY_ACTIVE)


def test_index_gives_the_same_answers() -> None:
    index = CandidateIndex.build(CANDIDATES)
    for reference in ("the crm", "the deploy", "task 3f9a2c", "the old build", "payroll", None):
        assert resolve(reference, index) == resolve(reference, CANDIDATES)


def test_fitting_status_settles_a_tie_between_active_tasks() -> None:
    assert resolve("the deploy", CANDIDATES).outcome is Outcome.AMBIGUOUS
    resume = parse("resume the deploy")[0]
    resolution = resolve(resume.reference, CANDIDATES, fits=resume.fitting_statuses)
    assert (resolution.task, resolution.basis) == (TASKS["site"], Basis.FITS)
    cancel = parse("cancel the deploy")[0]
    assert resolve(cancel.reference, CANDIDATES, fits=cancel.fitting_statuses).task is None


def test_fitting_status_without_reference() -> None:
    approve = parse("approve")[0]
    resolution = resolve(None, CANDIDATES, fits=approve.fitting_statuses)
    assert (resolution.task, resolution.basis) == (TASKS["report"], Basis.FITS)


def test_a_status_alone_picks_the_task_with_that_status() -> None:
    """ "the failed one" names no title: the only failed task, else ask among them."""
    (intent,) = parse("logs for the failed one")
    assert intent.reference == "the failed one"
    resolution = resolve(intent.reference, CANDIDATES, TASKS["site"].id)
    assert (resolution.task, resolution.basis) == (TASKS["migration"], Basis.HINT)
    assert resolve("the running one", CANDIDATES).outcome is Outcome.AMBIGUOUS


def test_the_second_half_of_a_compound_title_word() -> None:
    assert found("the site") == "site"  # "Deploy website"
    assert found("the phone crm") == "crm"  # "Cellphone Store CRM"
    assert resolve("the port", CANDIDATES).outcome is Outcome.NOT_FOUND  # not "report"


def test_three_hex_characters_are_an_id_prefix_after_task_or_with_a_digit() -> None:
    assert resolve("task 3f9", CANDIDATES).outcome is Outcome.AMBIGUOUS  # two builds
    assert resolve("3f9", CANDIDATES).outcome is Outcome.AMBIGUOUS
    assert found("task d4e") == "migration"


def test_shorthand_stem_and_kind_name_a_task() -> None:
    assert found("sales rpt") == "report"  # no vowels: a shortened title word
    assert found("the migrashun") == "migration"  # right start, ending typed by ear
    assert found("the app") == "crm"  # the one task of that kind
    assert resolve("the data move", CANDIDATES).outcome is Outcome.NOT_FOUND
