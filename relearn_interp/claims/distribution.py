"""Knowledge distribution: do GA/NPO raise next-token entropy on forget prompts, and ReLearn not?"""

from __future__ import annotations

import numpy as np

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
from relearn_interp.statistics import bootstrap, equivalence

CLAIM = "GA/NPO raise next-token entropy on forget prompts, ReLearn does not"
STATISTIC = (
    "per forget fact, the mean over answer positions of the checkpoint's next-token entropy minus "
    "vanilla's (nats), averaged over facts"
)
# "ReLearn does not" is an equivalence claim: its change must lie within this fraction of the
# GA/NPO checkpoints' mean change (two one-sided tests), not merely fail to exclude 0.
MARGIN_FRACTION = 0.5


def entropy_change_per_fact(shift: dict) -> dict[str, dict[str, float]]:
    """label -> fact id -> mean entropy change vs the base over the fact's answer positions."""
    out: dict[str, dict[str, float]] = {}
    for item in shift["items"]:
        base = float(np.mean(item["base_entropy"]))
        for label, values in item["models"].items():
            out.setdefault(label, {})[item["id"]] = float(np.mean(values["entropy_model"])) - base
    return out


def claim_entropy(shift: dict, seed: int = 0) -> Claim:
    """Each GA/NPO checkpoint raises entropy (> 0), and raises it more than ReLearn does."""
    _, change = aligned(entropy_change_per_fact(shift))
    labels = list(change)
    comparisons = []
    for name in reverse_labels(labels):
        zero = np.zeros_like(change[name])
        comparisons.append(compare(f"{name} entropy change", change[name], zero, +1, seed))
        for relearn in relearn_labels(labels):
            comparisons.append(
                compare(f"{name} − {relearn}", change[name], change[relearn], +1, seed)
            )
    context = [
        f"{label} {bootstrap(change[label], seed=seed).fmt(2, signed=True)}"
        for label in relearn_labels(labels)
    ]
    measured = "; ".join(f"{c.name} {c.estimate.fmt(2, signed=True)}" for c in comparisons)
    if context:
        measured += "; for context, ReLearn's own change: " + ", ".join(context)
    reverse_mean = float(np.mean([change[n].mean() for n in reverse_labels(labels)] or [0.0]))
    verdict = combined(comparisons)
    tests, note = [], ""
    if reverse_mean > 0:
        margin = MARGIN_FRACTION * reverse_mean
        tests = [(r, equivalence(change[r], margin, seed)) for r in relearn_labels(labels)]
        measured += "; ReLearn's change, TOST: " + ", ".join(f"{r} {t.fmt()}" for r, t in tests)
    else:
        note = f"no equivalence margin: GA/NPO's mean change is {reverse_mean:+.2f} nats, not > 0"
    return Claim(
        CLAIM,
        STATISTIC,
        rule_text(
            "each GA/NPO change > 0, each GA/NPO change − ReLearn's > 0, and ReLearn's change "
            f"equivalent to 0 within ±{MARGIN_FRACTION:g} × GA/NPO's mean change (two one-sided "
            "tests at α = 0.05; beyond the margin contradicts the claim)"
        ),
        both_halves(verdict, [t.outcome for _, t in tests]),
        measured + " nats",
        comparisons,
        note,
    )


def both_halves(differences: str, outcomes: list[str]) -> str:
    """The verdict from both halves: the GA/NPO differences and ReLearn's equivalence tests."""
    if differences == "contradicted" or "beyond the margin" in outcomes:
        return "contradicted"
    if differences == "supported" and outcomes and all(o == "equivalent" for o in outcomes):
        return "supported"
    return "inconclusive"


def _check(evidence: Evidence) -> Claim:
    return claim_entropy(evidence.shift, evidence.seed)


CHECK = ClaimCheck("entropy", "shift per fact", _check)
