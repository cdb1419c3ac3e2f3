"""What a claim is, what it is checked on (`Evidence`), its registry entry (`ClaimCheck`), and the
shared steps of checking one: align per-fact values across checkpoints, bootstrap the claimed
differences on one resample, apply the three-valued rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from relearn_interp.erasure.judge import ErasureTable, erasure_table
from relearn_interp.statistics import (
    VERDICT_RULE,
    Estimate,
    combine,
    corrected_verdicts,
    paired_difference,
    verdict,
)


@dataclass
class Comparison:
    """One claimed difference (e.g. relearn − ga_gdr) with its CI and verdict."""

    name: str
    estimate: Estimate
    direction: int
    verdict: str
    p_holm: float | None = None  # set when the claim's family is corrected (`combined`)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            **self.estimate.to_json(),
            "direction": self.direction,
            "verdict": self.verdict,
            **({"p_holm": self.p_holm} if self.p_holm is not None else {}),
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
    """The claim's verdict after Holm-correcting its comparisons (each one's verdict and adjusted
    p are updated in place): supported when all are, contradicted when any is."""
    corrected = corrected_verdicts(
        [c.estimate for c in comparisons], [c.direction for c in comparisons]
    )
    for comparison, (verdict_, p) in zip(comparisons, corrected, strict=True):
        comparison.verdict, comparison.p_holm = verdict_, p
    return combine([c.verdict for c in comparisons])


def rule_text(claimed: str) -> str:
    """The rule printed beside a claim: what is claimed, and the project's verdict rule."""
    return (
        f"claimed: {claimed}. For each comparison, {VERDICT_RULE}. A claim made of several "
        "comparisons is supported when all are, contradicted when any is, inconclusive otherwise."
    )


def not_measured(claim: str, statistic: str, why: str) -> Claim:
    return Claim(claim, statistic, "", "not measured", measured=f"could not be measured: {why}")


@dataclass(frozen=True)
class Evidence:
    """The saved results of one run that the claims are checked on (the forget split's lens and
    shift), and the bootstrap seed. The erasure table is computed once, on first use, and read by
    the erasure claim, the report's erasure table and its figures alike."""

    evals: dict[str, dict]
    lens: dict
    shift: dict
    circuits: dict | None
    circuit_pairs: dict | None
    erasure: dict | None
    seed: int = 0

    @cached_property
    def erasure_table(self) -> ErasureTable:
        return erasure_table(self.erasure, self.seed)


@dataclass(frozen=True)
class ClaimCheck:
    """One registry entry: a claim's short name, what it is computed on (both shown when its
    inputs are missing) and the function that checks it."""

    name: str
    inputs: str
    check: Callable[[Evidence], Claim]


def guarded(check: Callable[[], Claim], claim: str, statistic: str) -> Claim:
    """Run a claim check; missing inputs make a 'not measured' row instead of a crash."""
    try:
        return check()
    except (KeyError, TypeError, ValueError, IndexError) as err:
        return not_measured(claim, statistic, f"missing {err}")
