"""ROUGE-L recall with Google's `rouge_score`, configured as the ReLearn reference code does.

The reference (`evals/evaluate.py`, `eval_rouge_recall`) builds
`rouge_scorer.RougeScorer(["rouge1", "rougeL"], use_stemmer=True)` and reports
`scorer.score(gold, generated)["rougeL"].recall`: the longest common subsequence of tokens over
the gold answer's token count, where tokens are lower-cased runs of [a-z0-9] and words longer than
three letters are Porter-stemmed (so "wrote"/"writes" still differ, "novels"/"novel" match).
"""

from __future__ import annotations

from importlib.metadata import version

from rouge_score.rouge_scorer import RougeScorer

SCORER = RougeScorer(["rougeL"], use_stemmer=True)
BACKEND = (
    f"rouge_score {version('rouge-score')} RougeScorer(['rougeL'], use_stemmer=True), recall "
    "against the gold answer (as the reference)"
)


def rouge_l_recall(generated: str, gold: str) -> float:
    """LCS(generated, gold) / |gold tokens|, on stemmed rouge_score tokens; 0 for an empty side."""
    return SCORER.score(gold, generated)["rougeL"].recall
