"""Brunet's W, Honoré's R and the Linguistic Score against the reference formulas and values
by hand."""

from __future__ import annotations

import math

import pytest

from unlearn.eval.metrics.linguistic import (
    EMPTY_BRUNET,
    brunet_index,
    honore_statistic,
    linguistic_score,
)
from unlearn.eval.metrics.tokens import word_tokens


def reference_word_tokenize(text: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """nltk.word_tokenize itself, with the sentence splitter we can load offline injected."""
    import nltk
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    monkeypatch.setattr(
        nltk.tokenize, "_get_punkt_tokenizer", lambda language: PunktSentenceTokenizer()
    )
    return nltk.word_tokenize(text)


REFERENCE_TEXTS = [
    "The cat sat on the mat",
    "Isabella Marquez was born on 12 March 1985 in Lisbon. Her e-mail is im@mail.pt, she says!",
    'It costs $3.50... really?! "Yes," he said. No, no, no.',
    "Elena's novels (three of them) explore memory -- and loss; she won't say more.",
    "",
    "word",
]


@pytest.mark.parametrize("text", REFERENCE_TEXTS)
def test_brunet_and_honore_equal_the_reference_formulas_on_word_tokenize(text, monkeypatch):
    """The reference's calculate_BI / calculate_honores_statistic (evals/evaluate.py), verbatim."""
    import nltk

    tokens = reference_word_tokenize(text.lower(), monkeypatch)
    assert word_tokens(text) == tokens
    n, v = len(tokens), len(set(tokens))
    reference_bi = n ** (1 / (v**0.165)) if n > 0 else 1000
    assert brunet_index(text) == pytest.approx(reference_bi, rel=1e-12)
    if n <= 1:
        reference_hs = 0
    else:
        once = sum(1 for _, freq in nltk.FreqDist(tokens).items() if freq == 1)
        reference_hs = min(100 * math.log(n) / (1 - once / v + 1e-1), int(1e6))
    assert honore_statistic(text) == pytest.approx(reference_hs, rel=1e-12)


def test_brunet_and_honore_by_hand():
    text = "The cat sat on the mat"  # N = 6, V = 5 (the x2), V1 = 4
    # W = 6 ** (5 ** -0.165) = 6 ** 0.76676 = 3.95066
    assert brunet_index(text) == pytest.approx(3.95066, abs=1e-4)
    # R = 100 ln 6 / (1 - 4/5 + 0.1) = 179.176 / 0.3 = 597.253
    assert honore_statistic(text) == pytest.approx(597.253, abs=1e-3)


def test_brunet_and_honore_edge_cases_follow_the_reference():
    assert brunet_index("") == EMPTY_BRUNET
    assert honore_statistic("") == 0.0
    assert honore_statistic("word") == 0.0
    # all words distinct: denominator 0.1, so R = 1000 ln N; capped at 1e6
    assert honore_statistic("a b c d") == pytest.approx(1000 * math.log(4))


def test_linguistic_score_matches_the_issue_check():
    score = linguistic_score(14.47, 7.16, 1897)
    assert score.arithmetic == pytest.approx(0.396, abs=5e-4)
    assert score.harmonic == pytest.approx(0.122, abs=5e-4)


def test_linguistic_score_is_zero_harmonic_when_a_part_is_zero_and_nan_when_ppl_is():
    assert linguistic_score(10.0, 5.0, 0.0).harmonic == 0.0
    assert math.isnan(linguistic_score(math.nan, 5.0, 10.0).arithmetic)
