"""The mean answer NLL behind PPL, by hand."""

from __future__ import annotations

import math

import torch

from unlearn.eval.metrics.perplexity import mean_answer_nll
from unlearn.prompting import IGNORE_INDEX


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
