"""`resolve(reference, candidates)`: which of the speaker's tasks a phrase means.

Signals, strongest first: an id or id prefix (>= 4 hex characters, or 3 after "task"); title
words (exact, then prefix, then one typo away, all through a word index so a lookup does not
scan every title); whether the task is active; hints like "old" or "yesterday's". Two
candidates that match about equally and cannot be told apart by those signals are an
ambiguity to ask about, never a guess.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from intents.text import fold
from intents.words import DETERMINERS, JUNK, MODIFIERS, NEWER, OLDER, PRONOUNS, STATUS_WORDS

#: Statuses after which nothing more will happen to a task.
FINISHED_STATUSES = frozenset({"completed", "cancelled"})
#: Candidates whose score is within this of the best count as matching equally well.
TIE_MARGIN = 0.25
#: Share of the phrase's words that must match a title ("payroll export" is not "Café menu
#: export": half the words naming nothing of ours means it is someone else's task).
MIN_COVERAGE = 0.6
#: A kind alone ("the app") is just enough to name the one task of that kind.
EXACT, PREFIX, TYPO, SHORTHAND, STEM, KIND = 1.0, 0.85, 0.8, 0.7, 0.7, MIN_COVERAGE

_SHORTHAND = re.compile(r"^[b-df-hj-np-tv-z]{2,5}$")
_HEX = re.compile(r"^#?([0-9a-f]{3,32})$")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One of the speaker's tasks, as much as resolution needs (no engine types here)."""

    id: str
    title: str
    status: str
    updated_at: datetime
    kind: str = ""

    @property
    def active(self) -> bool:
        return self.status not in FINISHED_STATUSES


class Outcome(StrEnum):
    FOUND = "found"
    AMBIGUOUS = "ambiguous"
    NOT_FOUND = "not_found"


class Basis(StrEnum):
    """Why a task was chosen, so the conversation can confirm the weaker ones."""

    ID = "id"
    TITLE = "title"
    FUZZY = "fuzzy"
    ACTIVE = "active"  # several titles matched equally; the only active one was taken
    FITS = "fits"  # several active ones matched; only one is in a status the command fits
    HINT = "hint"  # "the old build": several matched, the hint picked one
    CONTEXT = "context"  # "it", or no reference: the task last talked about
    ONLY_ACTIVE = "only_active"  # no reference, no context, and one active task


@dataclass(frozen=True, slots=True)
class Resolution:
    """FOUND: `task` is set. AMBIGUOUS: ask, offering `options` (best first). NOT_FOUND:
    say so, offering the active tasks as `options` (most recent first)."""

    outcome: Outcome
    task: Candidate | None = None
    options: tuple[Candidate, ...] = ()
    basis: Basis | None = None

    @property
    def clear(self) -> bool:
        """Safe to act on, even for destructive commands: an id, a title, or a named hint."""
        return self.outcome is Outcome.FOUND and self.basis in (
            Basis.ID,
            Basis.TITLE,
            Basis.HINT,
            Basis.CONTEXT,
        )


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def title_words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


@dataclass(frozen=True, slots=True)
class CandidateIndex:
    """Candidates with their title words indexed (exact, prefixes, one-delete variants), built
    once per candidate list so each resolution only touches the tasks that share a word."""

    candidates: tuple[Candidate, ...]
    exact: dict[str, set[int]]
    prefixes: dict[str, set[str]]
    #: The second halves of compound title words: "site" in "website", "phone" in "cellphone".
    suffixes: dict[str, set[str]]
    variants: dict[str, set[str]]
    #: Title words by first letter, for shorthand ("rpt", "bld") when nothing else matched.
    by_initial: dict[str, tuple[str, ...]]
    kinds: dict[str, set[int]]
    by_id: dict[str, int]
    #: (id, position) sorted by id, for id-prefix lookups by bisection.
    sorted_ids: tuple[tuple[str, int], ...]
    #: Active candidates, most recently updated first: the options when nothing matches.
    active_by_recency: tuple[Candidate, ...]
    #: Candidates by status, most recent first: "the failed one" names no title at all.
    by_status: dict[str, tuple[Candidate, ...]]

    @classmethod
    def build(cls, candidates: Iterable[Candidate]) -> CandidateIndex:
        tasks = tuple(candidates)
        exact: dict[str, set[int]] = {}
        prefixes: dict[str, set[str]] = {}
        suffixes: dict[str, set[str]] = {}
        variants: dict[str, set[str]] = {}
        kinds: dict[str, set[int]] = {}
        for position, candidate in enumerate(tasks):
            if candidate.kind:
                kinds.setdefault(fold(candidate.kind), set()).add(position)
            for word in title_words(candidate.title):
                if word in exact:
                    exact[word].add(position)
                    continue
                exact[word] = {position}
                for key in {word} | (_deletes(word) if len(word) >= 4 else set()):
                    variants.setdefault(key, set()).add(word)
                for size in range(3, min(len(word), 10)):
                    prefixes.setdefault(word[:size], set()).add(word)
                for start in range(3, len(word) - 3):
                    suffixes.setdefault(word[start:], set()).add(word)
        return cls(
            candidates=tasks,
            exact=exact,
            prefixes=prefixes,
            suffixes=suffixes,
            variants=variants,
            by_initial=_by_initial(exact),
            kinds=kinds,
            by_id={candidate.id: position for position, candidate in enumerate(tasks)},
            sorted_ids=tuple(sorted((c.id.lower(), p) for p, c in enumerate(tasks))),
            active_by_recency=_by_recency(c for c in tasks if c.active),
            by_status={
                status: _by_recency(c for c in tasks if c.status == status)
                for status in {c.status for c in tasks}
            },
        )

    def with_id_prefix(self, prefix: str) -> list[Candidate]:
        start = bisect.bisect_left(self.sorted_ids, (prefix, -1))
        found: list[Candidate] = []
        for task_id, position in self.sorted_ids[start:]:
            if not task_id.startswith(prefix):
                break
            found.append(self.candidates[position])
        return found

    def word_scores(self, word: str) -> dict[int, float]:
        """How well `word` matches each candidate that has a matching title word."""
        scores: dict[int, float] = {}

        def add(positions: Iterable[int], score: float) -> None:
            for position in positions:
                if scores.get(position, 0.0) < score:
                    scores[position] = score

        add(self.kinds.get(word, ()), KIND)
        if len(word) >= 4:
            for key in {word} | _deletes(word):
                for title_word in self.variants.get(key, ()):
                    if title_word != word and _within_one_edit(word, title_word):
                        add(self.exact[title_word], TYPO)
        if len(word) >= 3:
            for title_word in self.prefixes.get(word, ()):
                add(self.exact[title_word], PREFIX)
            for title_word in self.suffixes.get(word, ()):
                add(self.exact[title_word], PREFIX)
            for size in range(4, len(word)):
                add(self.exact.get(word[:size], ()), PREFIX)
        add(self.exact.get(word, ()), EXACT)
        if not scores and len(word) >= 6:
            # "migrashun": the first five letters right, the ending typed by ear
            for title_word in self.prefixes.get(word[:5], ()):
                if abs(len(title_word) - len(word)) <= 3:
                    add(self.exact[title_word], STEM)
        return scores


def _by_initial(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for word in words:
        grouped.setdefault(word[0], []).append(word)
    return {initial: tuple(found) for initial, found in grouped.items()}


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau distance <= 1 (one insert, delete, substitution or adjacent swap)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _by_recency(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    return tuple(sorted(candidates, key=lambda c: c.updated_at, reverse=True))


def _active_options(index: CandidateIndex) -> tuple[Candidate, ...]:
    return index.active_by_recency


def resolve(
    reference: str | None,
    candidates: Sequence[Candidate] | CandidateIndex,
    last_task_id: str | None = None,
    *,
    fits: frozenset[str] = frozenset(),
) -> Resolution:
    """The task `reference` means among the speaker's own `candidates`.

    No reference or a pronoun ("it", "that") means `last_task_id`; without one, the only
    active task, else an ambiguity over the active tasks. `fits` (`Intent.fitting_statuses`)
    settles a tie between active tasks when only one is in a status the command applies to
    ("resume the deploy": the paused one). Pass a `CandidateIndex` when the same list serves
    many messages.
    """
    index = (
        candidates if isinstance(candidates, CandidateIndex) else CandidateIndex.build(candidates)
    )
    words = title_words(reference or "")
    content = [w for w in words if w not in DETERMINERS and w not in PRONOUNS]
    if not content:
        return _from_context(index, last_task_id, fits)
    content = [w for w in content if w not in JUNK or w in MODIFIERS] or content
    older = any(w in OLDER for w in content)
    newer = any(w in NEWER for w in content)
    # "the paused deploy" picks by status; "the crm finished" asks about it.
    heads = [n for n, w in enumerate(content) if w not in MODIFIERS]
    statuses = {
        STATUS_WORDS[w] for w in content[: heads[-1] if heads else None] if w in STATUS_WORDS
    }
    content = [w for w in content if w not in MODIFIERS]
    content = [w for w in content if w not in JUNK] or content
    if not content:
        if statuses:  # "the failed one"
            return _by_status(index, statuses)
        return _from_context(index, last_task_id, fits)

    ids = _id_matches(index, words)
    if ids is not None:
        return ids

    matched = _matches(index, content)
    if not matched and len(content) > 1 and content[-1].endswith(("ing", "ed")):
        # "the crm wrapping", "the migration knackered": a verb or state typed after the
        # name; try the name alone
        content = content[:-1]
        matched = _matches(index, content)
    if not matched:
        return Resolution(Outcome.NOT_FOUND, options=_active_options(index))
    best = max(matched.values())
    tier = [index.candidates[p] for p, s in matched.items() if s >= best - TIE_MARGIN]
    basis = Basis.TITLE if best >= len(content) * EXACT else Basis.FUZZY
    if len(tier) == 1:
        return Resolution(Outcome.FOUND, tier[0], basis=basis)
    if statuses:
        with_status = [c for c in tier if c.status in statuses]
        if len(with_status) == 1:
            return Resolution(Outcome.FOUND, with_status[0], basis=Basis.HINT)
        tier = with_status or tier
    if older or newer:
        hinted = sorted(tier, key=lambda c: c.updated_at, reverse=newer)
        finished = [c for c in tier if not c.active]
        if older and len(finished) == 1:
            return Resolution(Outcome.FOUND, finished[0], basis=Basis.HINT)
        if (older and not finished) or newer:
            return Resolution(Outcome.FOUND, hinted[0], basis=Basis.HINT)
    active = [c for c in tier if c.active]
    if len(active) == 1:
        return Resolution(Outcome.FOUND, active[0], basis=Basis.ACTIVE)
    fitting = [c for c in active if c.status in fits]
    if len(fitting) == 1:
        return Resolution(Outcome.FOUND, fitting[0], basis=Basis.FITS)
    ordered = sorted(
        tier,
        key=lambda c: (matched[index.by_id[c.id]], c.active, c.updated_at),
        reverse=True,
    )
    return Resolution(Outcome.AMBIGUOUS, options=tuple(ordered))


def _matches(index: CandidateIndex, content: Sequence[str]) -> dict[int, float]:
    """Candidates whose titles cover enough of `content`, with their scores."""
    totals: dict[int, float] = {}
    shorthand: list[str] = []
    for word in content:
        scores = index.word_scores(word)
        if not scores and _SHORTHAND.match(word):
            shorthand.append(word)
        for position, score in scores.items():
            totals[position] = totals.get(position, 0.0) + score
    for word in shorthand:
        if totals:
            # "sales rpt": a word without vowels shortens a title word of a task the other
            # words already point at (looked for only there, so no scan of every title)
            for position in totals:
                titled = title_words(index.candidates[position].title)
                if any(_shortens(word, w) for w in titled):
                    totals[position] += SHORTHAND
            continue
        # "rpt status?": shorthand alone, tried against title words with its first letter
        for title_word in index.by_initial.get(word[0], ()):
            if _shortens(word, title_word):
                for position in index.exact[title_word]:
                    totals[position] = max(totals.get(position, 0.0), SHORTHAND)
    return {p: s for p, s in totals.items() if s >= MIN_COVERAGE * len(content)}


def _shortens(short: str, word: str) -> bool:
    """ "rpt" for "report", "mgmt" for "management": same first letter, letters in order."""
    if len(word) <= len(short) or word[0] != short[0]:
        return False
    rest = iter(word)
    return all(letter in rest for letter in short)


def _id_matches(index: CandidateIndex, words: Sequence[str]) -> Resolution | None:
    """Resolution by id prefix, or None when the phrase holds no id-like word."""
    for position, word in enumerate(words):
        match = _HEX.match(word)
        if match is None:
            continue
        after_task = position > 0 and words[position - 1] in ("task", "id", "job")
        if not (after_task or any(ch.isdigit() for ch in word)) or (
            # "task 3f9" and "3f9" are id prefixes; "100" and "add" are not
            len(word) < 4 and not after_task and word.isdigit()
        ):
            continue
        found = index.with_id_prefix(word)
        if len(found) == 1:
            return Resolution(Outcome.FOUND, found[0], basis=Basis.ID)
        if found:
            return Resolution(Outcome.AMBIGUOUS, options=_by_recency(found))
        if any(ch.isdigit() for ch in word):
            return Resolution(Outcome.NOT_FOUND, options=_active_options(index))
    return None


def _by_status(index: CandidateIndex, statuses: set[str]) -> Resolution:
    found = _by_recency(c for status in statuses for c in index.by_status.get(status, ()))
    if len(found) == 1:
        return Resolution(Outcome.FOUND, found[0], basis=Basis.HINT)
    if found:
        return Resolution(Outcome.AMBIGUOUS, options=found)
    return Resolution(Outcome.NOT_FOUND, options=_active_options(index))


def _from_context(
    index: CandidateIndex, last_task_id: str | None, fits: frozenset[str]
) -> Resolution:
    if last_task_id is not None and last_task_id in index.by_id:
        return Resolution(
            Outcome.FOUND, index.candidates[index.by_id[last_task_id]], basis=Basis.CONTEXT
        )
    active = _active_options(index)
    if len(active) == 1:
        return Resolution(Outcome.FOUND, active[0], basis=Basis.ONLY_ACTIVE)
    fitting = [c for c in active if c.status in fits]
    if len(fitting) == 1:
        return Resolution(Outcome.FOUND, fitting[0], basis=Basis.FITS)
    if active:
        return Resolution(Outcome.AMBIGUOUS, options=active)
    return Resolution(Outcome.NOT_FOUND)
