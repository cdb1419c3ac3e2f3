"""Linguistic Score (LS): perplexity, Brunet's index and Honoré's statistic, squashed and averaged.

As in the ReLearn reference code, W and R are computed per answer and averaged over a set, PPL is
averaged over the answers whose PPL is finite, and the three set means are mapped to (0, 1):
s_ppl = 1/(1+PPL), s_W = 1/(1+W), s_R = R/(1+R); LS is their arithmetic mean, and the harmonic
mean is reported beside it. W and R count the reference's tokens, `word_tokenize(answer.lower())`
(see `tokens.py` for the one remaining difference, Punkt's untrained sentence split).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from unlearn.eval.metrics.tokens import TOKENIZER as _TOKENIZER
from unlearn.eval.metrics.tokens import word_tokens

BACKEND = f"Brunet W and Honore R on {_TOKENIZER}"
SetMean = float | np.ndarray  # one set's mean, or one per bootstrap resample (elementwise)

EMPTY_BRUNET = 1000.0  # the reference code's W for an answer with no tokens
HONORE_CAP = 1e6
HONORE_EPSILON = 0.1
BRUNET_EXPONENT = -0.165


def brunet_index(text: str) -> float:
    """Brunet's W = N^(V^-0.165) (N tokens, V distinct); lower means a richer vocabulary."""
    tokens = word_tokens(text)
    if not tokens:
        return EMPTY_BRUNET
    return len(tokens) ** (len(set(tokens)) ** BRUNET_EXPONENT)


def honore_statistic(text: str) -> float:
    """Honoré's R = 100 ln N / (1 - V1/V + 0.1), capped at 1e6; 0 for fewer than two tokens."""
    tokens = word_tokens(text)
    if len(tokens) <= 1:
        return 0.0
    counts = Counter(tokens)
    once = sum(1 for count in counts.values() if count == 1)
    value = 100 * math.log(len(tokens)) / (1 - once / len(counts) + HONORE_EPSILON)
    return min(value, HONORE_CAP)


@dataclass(frozen=True)
class LinguisticScore:
    """The squashed components and their arithmetic (LS) and harmonic means."""

    s_ppl: SetMean
    s_brunet: SetMean
    s_honore: SetMean

    @property
    def arithmetic(self) -> SetMean:
        return (self.s_ppl + self.s_brunet + self.s_honore) / 3

    @property
    def harmonic(self) -> float:
        parts = (self.s_ppl, self.s_brunet, self.s_honore)
        if any(math.isnan(p) for p in parts):
            return math.nan
        if min(parts) <= 0:
            return 0.0
        return 3 / sum(1 / p for p in parts)


def linguistic_score(ppl: SetMean, brunet: SetMean, honore: SetMean) -> LinguisticScore:
    """Squash set-mean PPL, W and R into (0, 1): 1/(1+PPL), 1/(1+W), R/(1+R); arrays of
    resampled means work elementwise (`.arithmetic` is LS, except `.harmonic`: floats only)."""
    return LinguisticScore(1 / (1 + ppl), 1 / (1 + brunet), honore / (1 + honore))
