"""The balance claim: at matched forgetting (KFR), ReLearn keeps retained knowledge (KRR on
held-out retain facts) and fluency (LS) higher than GA/NPO."""

from __future__ import annotations

from relearn_interp.claims.base import (
    Claim,
    ClaimCheck,
    Comparison,
    Evidence,
    combined,
    compare,
    rule_text,
)
from relearn_interp.labels import relearn_labels, reverse_labels
from relearn_interp.metric_intervals import METRICS, columns, ls_from_columns
from relearn_interp.statistics import paired_difference, verdict

CLAIM = "At matched KFR, ReLearn keeps KRR and Linguistic Score higher than GA/NPO"
STATISTIC = (
    "ReLearn − GA/NPO on the held-out retain facts: KRR (share of facts retained) and LS "
    "(bootstrapped from per-answer PPL, Brunet and Honoré); KFR difference shown to check matching"
)
BY_KEY = {metric.key: metric for metric in METRICS}


def claim_balance(evals: dict[str, dict], seed: int = 0) -> Claim:
    """KRR and LS differences ReLearn − each GA/NPO > 0; KFR differences reported beside."""
    labels = list(evals)
    get = {key: {label: columns(evals[label], BY_KEY[key]) for label in labels} for key in BY_KEY}
    comparisons: list[Comparison] = []
    unmatched = []
    for relearn in relearn_labels(labels):
        for name in reverse_labels(labels):
            kfr = paired_difference(get["forget.KFR"][relearn], get["forget.KFR"][name], seed=seed)
            if kfr.low > 0 or kfr.high < 0:
                unmatched.append(f"{relearn} − {name} KFR {kfr.fmt(2, signed=True)}")
            comparisons.append(
                compare(
                    f"KRR {relearn} − {name}",
                    get["retain.KRR"][relearn],
                    get["retain.KRR"][name],
                    +1,
                    seed,
                )
            )
            ls = paired_difference(
                get["retain.LS"][relearn],
                get["retain.LS"][name],
                statistic=ls_from_columns,
                seed=seed,
            )
            comparisons.append(Comparison(f"LS {relearn} − {name}", ls, +1, verdict(ls, +1)))
    note = (
        "KFR is not matched for " + "; ".join(unmatched)
        if unmatched
        else "every ReLearn − GA/NPO KFR difference has a CI that includes 0 (matched)"
    )
    return Claim(
        CLAIM,
        STATISTIC,
        rule_text("each KRR and LS difference ReLearn − GA/NPO > 0"),
        combined(comparisons),
        "; ".join(f"{c.name} {c.estimate.fmt(3, signed=True)}" for c in comparisons),
        comparisons,
        note,
    )


def _check(evidence: Evidence) -> Claim:
    return claim_balance(evidence.evals, evidence.seed)


CHECK = ClaimCheck("balance", "KRR/LS per fact", _check)
