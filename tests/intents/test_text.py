"""Text normalisation: typo correction leaves real words alone, stretched and addressed text."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.text import correct_typo, tokenize

WORD_LIST = Path("/usr/share/dict/words")


@pytest.mark.skipif(not WORD_LIST.exists(), reason="no system word list installed")
def test_real_words_are_not_corrected_into_other_words() -> None:
    """Only inflections ("pausing" -> "pause") may be corrected; "passed" is not "paused"."""
    words = {w for w in WORD_LIST.read_text().split() if w.isalpha() and w.islower()}
    changed = {
        word: fixed
        for word in words
        if (fixed := correct_typo(word)) is not None
        and not (word.startswith(fixed) or fixed.startswith(word))
        and not (len(word) > len(fixed) and word.startswith(fixed[:-1]))  # "denies" -> "deny"
        and word not in ("stats", "reran", "estimates", "dding")
    }
    assert not changed, "add to intents/lookalikes.py: " + " ".join(sorted(changed))


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("pasue", "pause"), ("cancle", "cancel"), ("heyy", "hey"), ("pleaseee", "please")],
)
def test_typos_and_stretched_words_are_fixed(typed: str, meant: str) -> None:
    assert correct_typo(typed) == meant


@pytest.mark.parametrize("word", ["passed", "told", "stack", "think", "links", "sold"])
def test_lookalike_words_stay(word: str) -> None:
    assert correct_typo(word) is None


def test_mentions_are_dropped_and_spaced_dashes_set_off() -> None:
    assert tokenize("@tasktalk <@U0123> pause it").words == ("pause", "it")
    assert tokenize("reject - wrong logo").words == ("reject", ":", "wrong", "logo")
    assert tokenize("tail -n 30").words == ("tail", "n", "30")


def test_slack_shortcodes_are_read_or_dropped() -> None:
    assert tokenize(":pause_button: the crm").words == ("pause", "the", "crm")
    assert tokenize(":eyes: crm").words == ("crm",)
    assert tokenize("reject: wrong").words == ("reject", ":", "wrong")
