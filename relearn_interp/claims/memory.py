"""Knowledge memory: under GA/NPO the gold answer fades in the late layers; ReLearn keeps
related concepts active there (logit lens)."""

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

CLAIM = (
    "Under GA/NPO the gold answer disappears after the middle layers; ReLearn keeps related "
    "concepts active"
)
STATISTIC = (
    "per forget fact, the logit-lens probability of the gold token (and the mass on related "
    "concepts' tokens: the fact's coarse attributes and same-relation answers of other "
    "subjects, never the subject's other facts) at the answer's target position, averaged over "
    "the last third of the layers, then over facts"
)


def late_sites(n_sites: int) -> slice:
    """The last third of the lens sites (the layers after the middle ones)."""
    return slice(n_sites * 2 // 3, n_sites)


def late_means(lens: dict, field: str) -> dict[str, dict[str, float]]:
    """label -> fact id -> mean of a per-site lens field over the late sites (None sites skipped)."""
    out: dict[str, dict[str, float]] = {}
    for item in lens["items"]:
        for label, values in item["checkpoints"].items():
            column = values[field]
            late = [v for v in column[late_sites(len(column))] if v is not None]
            if late:
                out.setdefault(label, {})[item["id"]] = float(np.mean(late))
    return out


def claim_memory(lens: dict, seed: int = 0) -> Claim:
    """GA/NPO's late gold probability < vanilla's; ReLearn's late related mass > each GA/NPO's."""
    _, gold = aligned(late_means(lens, "target_prob"))
    _, related = aligned(late_means(lens, "related_mass"))
    labels = list(gold)
    comparisons = [
        compare(f"late gold prob {name} − vanilla", gold[name], gold["vanilla"], -1, seed)
        for name in reverse_labels(labels)
    ]
    comparisons += [
        compare(f"late related mass {relearn} − {name}", related[relearn], related[name], +1, seed)
        for relearn in relearn_labels(labels)
        for name in reverse_labels(labels)
    ]
    return Claim(
        CLAIM,
        STATISTIC,
        rule_text(
            "each GA/NPO late gold prob − vanilla's < 0, and ReLearn's late related mass − each "
            "GA/NPO's > 0"
        ),
        combined(comparisons),
        "; ".join(f"{c.name} {c.estimate.fmt(3, signed=True)}" for c in comparisons),
        comparisons,
    )


def _check(evidence: Evidence) -> Claim:
    return claim_memory(evidence.lens, evidence.seed)


CHECK = ClaimCheck("memory", "logit lens per fact", _check)
