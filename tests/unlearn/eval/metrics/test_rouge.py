"""ROUGE-L recall by hand and against the reference scorer."""

from __future__ import annotations

import pytest

from unlearn.eval.metrics.rouge import rouge_l_recall


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
