"""What a claim is, and the shared steps of checking one: align per-fact values across
checkpoints, bootstrap the claimed differences on one resample, apply the three-valued rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from relearn_interp.statistics import (
    VERDICT_RULE,
    Estimate,
    combine,
    paired_difference,
    verdict,
)

REVERSE = ("ga", "npo")  # method families that unlearn by reverse optimisation
RELEARN = "relearn"


def family(label: str) -> str:
    return label.split("_")[0]


def reverse_labels(labels: list[str]) -> list[str]:
    return [label for label in labels if family(label) in REVERSE]


def relearn_labels(labels: list[str]) -> list[str]:
    return [label for label in labels if family(label) == RELEARN]


@dataclass
class Comparison:
    """One claimed difference (e.g. relearn − ga_gdr) with its CI and verdict."""

    name: str
    estimate: Estimate
    direction: int
    verdict: str

    def to_json(self) -> dict:
        return {
            "name": self.name,
            **self.estimate.to_json(),
            "direction": self.direction,
            "verdict": self.verdict,
        }


@dataclass
class Claim:
    """A claim, the statistic it is tested with, the rule, the numbers and the verdict."""

    claim: str
    statistic: str
    rule: str
    verdict: str
    measured: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict:
        return {
            "claim": self.claim,
            "statistic": self.statistic,
            "rule": self.rule,
            "verdict": self.verdict,
            "measured": self.measured,
            "note": self.note,
            "comparisons": [c.to_json() for c in self.comparisons],
        }


def aligned(
    per_label: Mapping[str, Mapping[str, float]],
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The facts every label has a value for (sorted ids) and each label's values on them."""
    shared = sorted(set.intersection(*(set(values) for values in per_label.values())))
    return shared, {
        label: np.asarray([values[i] for i in shared], dtype=float)
        for label, values in per_label.items()
    }


def compare(name: str, a: np.ndarray, b: np.ndarray, direction: int, seed: int = 0) -> Comparison:
    """The paired difference mean(a) − mean(b) over the same facts, and its verdict."""
    estimate = paired_difference(a, b, seed=seed)
    return Comparison(name, estimate, direction, verdict(estimate, direction))


def combined(comparisons: list[Comparison]) -> str:
    return combine([c.verdict for c in comparisons])


def rule_text(claimed: str) -> str:
    """The rule printed beside a claim: what is claimed, and the project's verdict rule."""
    return (
        f"claimed: {claimed}. For each comparison, {VERDICT_RULE}. A claim made of several "
        "comparisons is supported when all are, contradicted when any is, inconclusive otherwise."
    )


def not_measured(claim: str, statistic: str, why: str) -> Claim:
    return Claim(claim, statistic, "", "not measured", measured=f"could not be measured: {why}")


def guarded(check: Callable[[], Claim], claim: str, statistic: str) -> Claim:
    """Run a claim check; missing inputs make a 'not measured' row instead of a crash."""
    try:
        return check()
    except (KeyError, TypeError, ValueError, IndexError) as err:
        return not_measured(claim, statistic, f"missing {err}")
