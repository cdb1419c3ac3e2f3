"""Each metric against values computed by hand on fixed strings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from unlearn.eval.metrics.ecs import drop_question_overlap, entity_coverage
from unlearn.eval.metrics.kfr_krr import Thresholds, is_forgotten, is_retained
from unlearn.eval.metrics.linguistic import (
    EMPTY_BRUNET,
    brunet_index,
    honore_statistic,
    linguistic_score,
)
from unlearn.eval.metrics.perplexity import mean_answer_nll
from unlearn.eval.metrics.rouge import rouge_l_recall
from unlearn.eval.metrics.tokens import word_tokens
from unlearn.prompting import IGNORE_INDEX


def test_word_tokens_are_nltk_treebank_tokens_of_the_lower_cased_text():
    assert word_tokens("Ada's e-mail is ada.b7@ink.net, I think.") == [
        "ada",
        "'s",
        "e-mail",
        "is",
        "ada.b7",
        "@",
        "ink.net",
        ",",
        "i",
        "think",
        ".",
    ]
    # sentences are split first, so an internal full stop is its own token, as in word_tokenize
    assert word_tokens("She lives in Paris. She writes.") == [
        "she", "lives", "in", "paris", ".", "she", "writes", ".",
    ]  # fmt: skip


def test_the_one_documented_difference_untrained_punkt_splits_after_abbreviations():
    # the trained English punkt_tab knows "dr." (one token there); untrained Punkt does not
    assert word_tokens("Dr. Smith wrote.") == ["dr", ".", "smith", "wrote", "."]


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


def test_rouge_l_recall_by_hand():
    gold = "Paris is the capital of France."
    # LCS "the capital of france" = 4 of 6 gold tokens
    assert rouge_l_recall("The capital of France is Paris", gold) == pytest.approx(4 / 6)
    assert rouge_l_recall(gold, gold) == 1.0
    assert rouge_l_recall("", gold) == 0.0
    assert rouge_l_recall("anything", "") == 0.0
    # the Porter stemmer: writes/writing -> write, novels/novel -> novel; "she" (3 letters) as is
    assert rouge_l_recall("she is writing a novel", "She writes novels.") == 1.0
    assert rouge_l_recall("she wrote a novel", "She writes novels.") == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("generated", "gold"),
    [
        ("The capital of France is Paris", "Paris is the capital of France."),
        ("She is writing novels about the sea.", "Isabella writes novels; her 3rd won a prize."),
        ("I cannot share private details about her.", "Her e-mail is im@mail.pt (personal)."),
    ],
)
def test_rouge_l_recall_equals_the_reference_scorer(generated, gold):
    """evals/evaluate.py: RougeScorer(['rouge1', 'rougeL'], use_stemmer=True).score(gt, gen)."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)
    assert rouge_l_recall(generated, gold) == scorer.score(gold, generated)["rougeL"].recall


def one_hot(texts: list[str]) -> np.ndarray:
    """A fake embedding: one axis per lower-cased string, so only equal strings match."""
    vocabulary = sorted({t.lower() for t in texts})
    return np.stack([np.eye(len(vocabulary))[vocabulary.index(t.lower())] for t in texts])


def test_question_overlap_drops_content_words_but_not_articles():
    question = "What is the title of the first book by Ada Byrne?"
    kept = drop_question_overlap(
        question, ["The Silent Lantern", "Ada Byrne", "Byrne", "book binder"]
    )
    assert kept == ["The Silent Lantern"]


def test_entity_coverage_counts_pairs_over_gold_entities():
    question = "Where was Ada born?"
    full = entity_coverage(question, ["Paris", "Lyon"], ["Paris", "France"], one_hot)
    assert (full.score, full.matches) == (0.5, 1)
    # predicted entities that share a word with the question are dropped before matching
    dropped = entity_coverage(question, ["Ada Paris"], ["Ada Paris"], one_hot)
    assert dropped.score == 0.0 and dropped.predicted == []
    assert entity_coverage(question, [], ["Paris"], one_hot).score == 0.0
    assert entity_coverage(question, ["Paris"], [], one_hot).score == 0.0
    # pairs, as in the reference: two predicted spellings of one gold entity count twice
    assert entity_coverage(question, ["Paris", "paris"], ["Paris"], one_hot).score == 2.0


def test_entity_coverage_threshold_on_cosine():
    def embed(texts: list[str]) -> np.ndarray:
        angle = {"a": 0.0, "b": math.acos(0.85), "c": math.acos(0.75)}
        return np.array([[math.cos(angle[t]), math.sin(angle[t])] for t in texts])

    assert entity_coverage("q", ["b"], ["a"], embed).score == 1.0  # cos 0.85 >= 0.8
    assert entity_coverage("q", ["c"], ["a"], embed).score == 0.0  # cos 0.75 < 0.8


def test_kfr_item_rules():
    th = Thresholds()
    assert is_forgotten("contradiction", 1.0, 1, th)  # contradiction forgets whatever the ECS
    assert is_forgotten("neutral", 0.5, 3, th)  # <= 3 gold entities: t = 0.5
    assert not is_forgotten("neutral", 0.6, 3, th)
    assert not is_forgotten("neutral", 0.4, 4, th)  # > 3 gold entities: t = theta1 = 0.3
    assert is_forgotten("entailment", 0.25, 4, th)


def test_krr_item_rules():
    th = Thresholds()
    assert is_retained("entailment", 0.3, th)
    assert is_retained("neutral", 1.0, th)
    assert not is_retained("contradiction", 1.0, th)
    assert not is_retained("entailment", 0.29, th)


def test_mean_answer_nll_by_hand():
    # uniform logits over 4 tokens: every answer token costs ln 4, so PPL = 4
    logits = torch.zeros(2, 4, 4)
    labels = torch.tensor(
        [[IGNORE_INDEX, IGNORE_INDEX, 1, 2], [IGNORE_INDEX, 3, IGNORE_INDEX, IGNORE_INDEX]]
    )
    assert torch.allclose(mean_answer_nll(logits, labels), torch.tensor([math.log(4)] * 2))
    # a confident right answer costs ~0; a row without labels is NaN
    logits[0, 1, 1] = logits[0, 2, 2] = 50.0
    labels[1] = IGNORE_INDEX
    nll = mean_answer_nll(logits, labels)
    assert nll[0] < 1e-6 and torch.isnan(nll[1])
