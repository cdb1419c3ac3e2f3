"""Each claim's rule gives all three verdicts on synthetic per-fact numbers."""

from __future__ import annotations

import numpy as np
import pytest

from relearn_interp.claims.balance import claim_balance
from relearn_interp.claims.distribution import claim_entropy
from relearn_interp.claims.memory import claim_memory
from relearn_interp.claims.robustness import claim_precision

N = 40
IDS = [f"fact{i:02d}" for i in range(N)]


def noise(seed: int, scale: float = 0.05) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, scale, N)


def shift_results(ga_change: np.ndarray, relearn_change: np.ndarray) -> dict:
    items = []
    for i, fact in enumerate(IDS):
        items.append(
            {
                "id": fact,
                "base_entropy": [1.0, 1.0],
                "models": {
                    "ga_gdr": {"entropy_model": [1.0 + ga_change[i]] * 2},
                    "relearn": {"entropy_model": [1.0 + relearn_change[i]] * 2},
                },
            }
        )
    return {"items": items}


@pytest.mark.parametrize(
    ("ga_shift", "expected"),
    [(0.5, "supported"), (-0.5, "contradicted"), (0.0, "inconclusive")],
)
def test_entropy_claim(ga_shift, expected):
    claim = claim_entropy(shift_results(ga_shift + noise(1), noise(2)))
    assert claim.verdict == expected, claim.measured
    assert "ga_gdr − relearn" in claim.measured and claim.rule


def test_entropy_claim_tests_that_relearn_does_not_raise_it():
    # ReLearn raising entropy as much as GA fails the equivalence half: contradicted.
    claim = claim_entropy(shift_results(0.5 + noise(1), 0.5 + noise(2)))
    assert claim.verdict == "contradicted" and "beyond the margin" in claim.measured
    # ReLearn's change halfway to the margin's edge, on noisy facts: not shown equivalent.
    claim = claim_entropy(shift_results(0.5 + noise(1), 0.24 + noise(2, 0.3)))
    assert claim.verdict == "inconclusive", claim.measured


def lens_results(late_gold: dict[str, float], related: dict[str, float]) -> dict:
    n_sites = 6
    items = []
    for i, fact in enumerate(IDS):
        checkpoints = {}
        for label in late_gold:
            jitter = float(noise(3 + len(label))[i])
            checkpoints[label] = {
                "target_prob": [0.1] * 4 + [late_gold[label] + jitter] * 2,
                "related_mass": [0.0] * 4 + [related[label] + jitter] * 2,
            }
            assert len(checkpoints[label]["target_prob"]) == n_sites
        items.append({"id": fact, "checkpoints": checkpoints})
    return {"items": items}


@pytest.mark.parametrize(
    ("gold", "related", "expected"),
    [
        ({"vanilla": 0.9, "npo_gdr": 0.2, "relearn": 0.3}, {"vanilla": 0.1, "npo_gdr": 0.1, "relearn": 0.4}, "supported"),
        ({"vanilla": 0.9, "npo_gdr": 0.2, "relearn": 0.3}, {"vanilla": 0.1, "npo_gdr": 0.4, "relearn": 0.1}, "contradicted"),
        ({"vanilla": 0.9, "npo_gdr": 0.2, "relearn": 0.3}, {"vanilla": 0.1, "npo_gdr": 0.2, "relearn": 0.2}, "inconclusive"),
    ],
)  # fmt: skip
def test_memory_claim(gold, related, expected):
    assert claim_memory(lens_results(gold, related)).verdict == expected


def eval_results(forgotten: np.ndarray, retained: np.ndarray, ppl: float) -> dict:
    forget_items = [{"id": f, "forgotten": bool(v)} for f, v in zip(IDS, forgotten, strict=True)]
    fp16 = [dict(item) for item in forget_items]
    retain_items = [
        {"id": f, "retained": bool(v), "ppl": ppl, "brunet": 10.0, "honore": 100.0}
        for f, v in zip(IDS, retained, strict=True)
    ]
    return {
        "items": {
            "forget": forget_items,
            "retain": retain_items,
            "robustness": {"float16": {"forget": fp16}, "bfloat16": {"forget": forget_items}},
        }
    }


def pattern(share: float) -> np.ndarray:
    return (np.arange(N) % 10) < share * 10


@pytest.mark.parametrize(
    ("relearn_krr", "relearn_ppl", "expected"),
    [(1.0, 5.0, "supported"), (0.3, 50.0, "contradicted"), (0.6, 10.0, "inconclusive")],
)
def test_balance_claim(relearn_krr, relearn_ppl, expected):
    forgotten = pattern(0.8)
    evals = {
        "ga_gdr": eval_results(forgotten, pattern(0.6), 10.0),
        "relearn": eval_results(forgotten, pattern(relearn_krr), relearn_ppl),
    }
    claim = claim_balance(evals)
    assert claim.verdict == expected, claim.measured
    assert "matched" in claim.note


@pytest.mark.parametrize(
    ("ga_flips", "relearn_flips", "expected"),
    [(8, 0, "supported"), (0, 8, "contradicted"), (0, 0, "inconclusive")],
)
def test_precision_claim(ga_flips, relearn_flips, expected):
    forgotten = pattern(0.5)
    # Facts 0-4 of every ten are forgotten in bf16; flipping the first k in fp16 turns
    # remembered ones among them into forgotten ones.
    order = np.argsort(forgotten, kind="stable")  # remembered facts first
    evals = {}
    for label, flips in (("ga_gdr", ga_flips), ("relearn", relearn_flips)):
        results = eval_results(forgotten, pattern(0.5), 10.0)
        fp16 = results["items"]["robustness"]["float16"]["forget"]
        for index in order[:flips]:
            fp16[index]["forgotten"] = True
        evals[label] = results
    claim = claim_precision(evals)
    assert claim.verdict == expected, claim.measured
    if ga_flips == relearn_flips == 0:
        assert "no checkpoint changes" in claim.note
