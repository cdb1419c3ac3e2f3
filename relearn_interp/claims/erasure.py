"""Our claim beyond the paper: at matched forgetting, ReLearn's forgotten facts are harder to
recover (logit lens, quantization, relearning) than GA/NPO's. The statistic and its bootstrap
live with the erasure analysis (`relearn_interp.erasure.judge`); this turns its comparisons into
a Claim."""

from __future__ import annotations

from relearn_interp.claims.base import Claim, ClaimCheck, Comparison, Evidence, rule_text
from relearn_interp.erasure.judge import CLAIM, CLAIM_STATISTIC, ErasureTable


def claim_erasure(table: ErasureTable) -> Claim:
    """ReLearn's recovered share of forgotten facts − each GA/NPO checkpoint's < 0."""
    comparisons = [
        Comparison(
            f"recovered share {c.relearn} − {c.other}", c.difference, -1, c.verdict, c.p_holm
        )
        for c in table.comparisons
    ]
    unmatched = [
        f"{c.relearn} − {c.other} forgotten share {c.forgotten_difference.fmt(2, signed=True)}"
        for c in table.comparisons
        if not c.matched_forgetting
    ]
    note = (
        "forgetting is not matched for " + "; ".join(unmatched)
        if unmatched
        else "forgotten shares matched (every difference's CI includes 0)"
    )
    return Claim(
        CLAIM[0].upper() + CLAIM[1:] + " (ours, beyond the paper)",
        CLAIM_STATISTIC,
        rule_text("each ReLearn − GA/NPO recovered share < 0"),
        table.verdict,
        "; ".join(f"{c.name} {c.estimate.fmt(3, signed=True)}" for c in comparisons),
        comparisons,
        note if comparisons else table.claim["note"],
    )


def _check(evidence: Evidence) -> Claim:
    return claim_erasure(evidence.erasure_table)


CHECK = ClaimCheck("erasure", "recovered share per fact", _check)
