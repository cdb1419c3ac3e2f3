"""Shares of forgotten facts with paired CIs, the judgement rule and the claim's verdict."""

from __future__ import annotations

import numpy as np
import pytest

from relearn_interp.erasure.judge import erasure_table, judge, ratio_estimate
from relearn_interp.statistics import Estimate


def _per_fact(forgotten: list[bool], recovered: list[bool], depth: float | None = 0.8) -> dict:
    n = len(forgotten)
    return {
        "forgotten": forgotten,
        "lens": recovered,
        "lens_raw": recovered,
        "lens_own": [False] * n,
        "int8": [False] * n,
        "relearn": [None] * n,
        "control": [None] * n,
        "any": [f and r for f, r in zip(forgotten, recovered, strict=True)],
        "depth": [depth if f else None for f in forgotten],
    }


def _results(checkpoints: dict[str, dict]) -> dict:
    return {"values": {"checkpoints": {k: {"per_fact": v} for k, v in checkpoints.items()}}}


def test_ratio_counts_only_forgotten_facts():
    numerator = np.array([1.0, 0.0, 1.0, 0.0])
    denominator = np.array([1.0, 1.0, 1.0, 0.0])
    estimate = ratio_estimate(numerator, denominator)
    assert (
        estimate.value == pytest.approx(2 / 3) and estimate.low <= estimate.value <= estimate.high
    )
    assert ratio_estimate(np.zeros(3), np.zeros(3)).value == 0


def test_the_judgement_rule():
    def estimates(recovered: Estimate, depth: Estimate | None, forgotten: float = 0.9):
        return {"forgotten": Estimate(forgotten, 0, 1, 30), "any": recovered, "depth": depth}

    low, high, mid = (
        Estimate(0.02, 0.0, 0.1, 30),
        Estimate(0.6, 0.4, 0.8, 30),
        Estimate(0.2, 0.1, 0.35, 30),
    )
    deep, shallow = Estimate(0.8, 0.7, 0.9, 30), Estimate(0.1, 0.0, 0.3, 30)
    assert judge(estimates(high, deep)) == "suppressed"
    assert judge(estimates(low, shallow)) == "suppressed"
    assert judge(estimates(low, deep)) == "erased"
    assert judge(estimates(mid, deep)) == "undecided"
    assert judge(estimates(low, None)) == "undecided"
    assert judge(estimates(low, deep, forgotten=0.0)) == "nothing forgotten"


def test_claim_is_supported_contradicted_or_inconclusive():
    n = 30
    forgotten = [True] * 27 + [False] * 3
    none = _per_fact(forgotten, [False] * n)
    most = _per_fact(forgotten, [True] * 24 + [False] * 6)
    supported = erasure_table(_results({"ga_gdr": most, "npo_gdr": most, "relearn": none}))
    assert supported.claim["verdict"] == "supported"
    assert all(c["matched_forgetting"] for c in supported.claim["comparisons"])
    assert supported.judgements == {
        "ga_gdr": "suppressed",
        "npo_gdr": "suppressed",
        "relearn": "erased",
    }
    contradicted = erasure_table(_results({"ga_gdr": none, "relearn": most}))
    assert contradicted.claim["verdict"] == "contradicted"
    mixed = erasure_table(_results({"ga_gdr": most, "npo_gdr": none, "relearn": none}))
    assert mixed.claim["verdict"] == "inconclusive"
    difference = supported.claim["comparisons"][0]["difference"]
    assert difference["value"] == pytest.approx(-24 / 27) and difference["high"] < 0
    row = next(r for r in supported.rows if r["checkpoint"] == "relearn")
    assert (
        row["any"]["value"] == 0
        and row["n_facts"] == n
        and row["depth"]["value"] == pytest.approx(0.8)
    )
