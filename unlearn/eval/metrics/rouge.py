"""ROUGE-L recall: longest common subsequence of tokens over the gold answer's length.

Tokenized as `rouge_score` does (lower case, runs of [a-z0-9]); the reference code also applies
the Porter stemmer, which is left out here (no NLTK), so "wrote"/"writes" count as different.
"""

from __future__ import annotations

import re

NON_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    return NON_ALNUM.sub(" ", text.lower()).split()


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (dynamic programme over one row)."""
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(
                previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1])
            )
        previous = current
    return previous[-1]


def rouge_l_recall(generated: str, gold: str) -> float:
    """LCS(generated, gold) / |gold tokens|; 0 for an empty gold answer."""
    gold_tokens = rouge_tokens(gold)
    if not gold_tokens:
        return 0.0
    return lcs_length(rouge_tokens(generated), gold_tokens) / len(gold_tokens)
