"""The precision claim: changing the weights' precision (fp16 → bf16) lowers GA/NPO's KFR, not
ReLearn's (the paper reads this as GA/NPO's forgetting being fragile)."""

from __future__ import annotations

from relearn_interp.claims.base import (
    Claim,
    ClaimCheck,
    Evidence,
    aligned,
    combined,
    compare,
    rule_text,
)
from relearn_interp.labels import relearn_labels, reverse_labels
from relearn_interp.metric_intervals import precision_rows

CLAIM = "The precision change (fp16 → bf16) lowers GA/NPO's KFR, not ReLearn's"
STATISTIC = (
    "per forget fact, forgotten with the weights rounded to fp16 minus forgotten with them rounded "
    "to bf16 (computed in fp32), averaged over facts: KFR(fp16) − KFR(bf16)"
)


def kfr_drop_per_fact(evals: dict[str, dict]) -> dict[str, dict[str, float]]:
    """label -> fact id -> forgotten(fp16) − forgotten(bf16)."""
    out = {}
    for label, results in evals.items():
        fp16, bf16 = precision_rows(results, "float16"), precision_rows(results, "bfloat16")
        if fp16 is None or bf16 is None:
            continue
        out[label] = {i: fp16[i] - bf16[i] for i in fp16 if i in bf16}
    return out


def claim_precision(evals: dict[str, dict], seed: int = 0) -> Claim:
    """Each GA/NPO drop − ReLearn's drop > 0."""
    _, drop = aligned(kfr_drop_per_fact(evals))
    labels = list(drop)
    comparisons = [
        compare(f"KFR drop {name} − {relearn}", drop[name], drop[relearn], +1, seed)
        for name in reverse_labels(labels)
        for relearn in relearn_labels(labels)
    ]
    changed = [label for label in labels if (drop[label] != 0).any()]
    note = (
        "no checkpoint changes any fact's outcome between fp16 and bf16 weights"
        if not changed
        else f"facts change outcome under {', '.join(changed)}"
    )
    return Claim(
        CLAIM,
        STATISTIC,
        rule_text("each GA/NPO KFR drop − ReLearn's > 0"),
        combined(comparisons),
        "; ".join(f"{c.name} {c.estimate.fmt(3, signed=True)}" for c in comparisons),
        comparisons,
        note,
    )


def _check(evidence: Evidence) -> Claim:
    return claim_precision(evidence.evals, evidence.seed)


CHECK = ClaimCheck("precision", "KFR per fact under rounding", _check)
