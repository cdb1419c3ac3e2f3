"""The shared step of every claim: its comparisons are Holm-corrected before they are combined."""

from __future__ import annotations

from relearn_interp.claims.base import Comparison, combined
from relearn_interp.statistics import Estimate


def test_a_claim_holm_corrects_its_comparisons_before_combining_them():
    # Alone, p = 0.04 excludes 0 (its uncorrected CI verdict is supported) ...
    borderline = Comparison("a", Estimate(0.2, 0.01, 0.4, 30, p=0.04), +1, "supported")
    assert combined([borderline]) == "supported" and borderline.p_holm == 0.04
    # ... beside two null comparisons the family's correction makes it inconclusive.
    family = [
        Comparison("a", Estimate(0.2, 0.01, 0.4, 30, p=0.04), +1, "supported"),
        Comparison("b", Estimate(0.1, -0.1, 0.3, 30, p=0.5), +1, "inconclusive"),
        Comparison("c", Estimate(-0.1, -0.3, 0.1, 30, p=0.6), +1, "inconclusive"),
    ]
    assert combined(family) == "inconclusive"
    assert family[0].verdict == "inconclusive" and abs(family[0].p_holm - 0.12) < 1e-12
    assert family[0].to_json()["p_holm"] == family[0].p_holm
