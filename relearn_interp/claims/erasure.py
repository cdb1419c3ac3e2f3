"""Our claim beyond the paper: at matched forgetting, ReLearn's forgotten facts are harder to
recover (logit lens, quantization, relearning) than GA/NPO's. The statistic and its bootstrap
live with the erasure analysis (`relearn_interp.erasure.judge`); this turns them into a Claim."""

from __future__ import annotations

from relearn_interp.claims.base import Claim, Comparison, rule_text
from relearn_interp.erasure.judge import CLAIM, erasure_table
from relearn_interp.statistics import Estimate


def claim_erasure(results: dict, seed: int = 0) -> Claim:
    """ReLearn's recovered share of forgotten facts − each GA/NPO checkpoint's < 0."""
    claim = erasure_table(results, seed).claim
    comparisons = [
        Comparison(
            f"recovered share {c['relearn']} − {c['other']}",
            Estimate(**c["difference"]),
            -1,
            c["verdict"],
        )
        for c in claim["comparisons"]
    ]
    unmatched = [
        f"{c['relearn']} − {c['other']} forgotten share "
        f"{Estimate(**c['forgotten_difference']).fmt(2, signed=True)}"
        for c in claim["comparisons"]
        if not c["matched_forgetting"]
    ]
    note = (
        "forgetting is not matched for " + "; ".join(unmatched)
        if unmatched
        else "forgotten shares matched (every difference's CI includes 0)"
    )
    return Claim(
        CLAIM[0].upper() + CLAIM[1:] + " (ours, beyond the paper)",
        claim["statistic"],
        rule_text("each ReLearn − GA/NPO recovered share < 0"),
        claim["verdict"],
        "; ".join(f"{c.name} {c.estimate.fmt(3, signed=True)}" for c in comparisons),
        comparisons,
        note if comparisons else (claim["note"] or ""),
    )
