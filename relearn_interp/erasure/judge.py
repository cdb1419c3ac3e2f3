"""From an erasure results JSON to the report's table: recovery shares with 95% CIs, the erased /
suppressed judgement of each checkpoint, and the comparisons behind the claim "at matched
forgetting, ReLearn's forgotten facts are harder to recover than GA/NPO's" (its Claim row:
`relearn_interp.claims.erasure`). A checkpoint's family is its label's `Method.family`.

Every interval is the shared paired bootstrap over facts (`relearn_interp.statistics`): a share of
the forgotten facts is a ratio of per-fact sums (recovered / forgotten, as [2, n] columns), and
every checkpoint (and every difference between two) is evaluated on the same resampled facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from jaxtyping import Float

from relearn_interp.labels import relearn_labels, reverse_labels
from relearn_interp.statistics import (
    VERDICT_RULE,
    Estimate,
    Verdict,
    bootstrap,
    combine,
    corrected_verdicts,
    is_binary,
    paired_difference,
    verdict,
    wilson,
)

RECOVERY_THRESHOLD = 0.2
DEPTH_THRESHOLD = 0.5
PROBES = ("lens", "lens_raw", "lens_own", "int8", "int4", "relearn", "control", "any")
JUDGEMENT_RULE = (
    "suppressed: the 95% CI of the share of forgotten facts that some probe recovers (lens above "
    f"its decoys, int8/int4, relearning, retain-only control) lies above {RECOVERY_THRESHOLD}, or "
    f"the CI of the patching depth lies below {DEPTH_THRESHOLD}; erased: the recovered share's CI "
    f"lies below {RECOVERY_THRESHOLD} and the depth's CI above {DEPTH_THRESHOLD}; undecided: "
    "otherwise; nothing forgotten: the checkpoint recalls every fact the base model recalls"
)
CLAIM = "at matched forgetting, ReLearn's forgotten facts are harder to recover than GA/NPO's"
CLAIM_STATISTIC = (
    "share of forgotten facts recovered by any probe: ReLearn minus GA/NPO (claimed negative); "
    "matched_forgetting: the CI of the forgotten-share difference holds 0"
)


def share_columns(per_fact: dict, probe: str) -> tuple[np.ndarray, np.ndarray]:
    """(numerator, denominator) per fact of a probe's recovered share of forgotten facts."""
    forgotten = np.asarray(per_fact["forgotten"], dtype=float)
    if probe in ("relearn", "control"):
        tested = np.asarray([v is not None for v in per_fact[probe]], dtype=float) * forgotten
        hits = np.asarray([bool(v) for v in per_fact[probe]], dtype=float)
        return hits * tested, tested
    return np.asarray(per_fact[probe], dtype=float) * forgotten, forgotten


def _ratio(x: np.ndarray) -> np.ndarray:
    """Σ numerator / Σ denominator over the unit axis of [..., 2, n] (0 where nothing is tested)."""
    return x[..., 0, :].sum(-1) / np.maximum(x[..., 1, :].sum(-1), 1.0)


def ratio_estimate(
    numerator: Float[np.ndarray, " n"], denominator: Float[np.ndarray, " n"], seed: int = 0
) -> Estimate:
    """Σ numerator / Σ denominator with its bootstrap CI over facts."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    if is_binary(numerator) and is_binary(denominator) and denominator.sum() > 0:
        if (numerator <= denominator).all():  # k of n forgotten facts: a proportion
            return wilson(int(numerator.sum()), int(denominator.sum()))
    return bootstrap(np.stack([numerator, denominator]), _ratio, seed=seed)


def paired_ratio_difference(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], seed: int = 0
) -> Estimate:
    """ratio(a) − ratio(b) over the same facts, both on each resample."""
    return paired_difference(np.stack(a), np.stack(b), _ratio, seed=seed)


def depth_estimate(per_fact: dict, seed: int = 0) -> Estimate | None:
    """Mean depth score over the facts with a gap to locate (None when there are none)."""
    depths = [d for d in per_fact["depth"] if d is not None]
    return bootstrap(depths, seed=seed) if depths else None


def probe_estimates(per_fact: dict, seed: int = 0) -> dict[str, Estimate | None]:
    """Each probe's recovered share of forgotten facts, the forgotten share and the depth score."""
    estimates: dict[str, Estimate | None] = {
        probe: ratio_estimate(*share_columns(per_fact, probe), seed=seed)
        for probe in PROBES
        if probe in per_fact
    }
    estimates["forgotten"] = bootstrap(
        np.asarray(per_fact["forgotten"], dtype=float), seed=seed, proportion=True
    )
    estimates["depth"] = depth_estimate(per_fact, seed)
    return estimates


def judge(estimates: dict[str, Estimate | None]) -> str:
    """The judgement rule (JUDGEMENT_RULE) applied to one checkpoint's estimates."""
    forgotten, recovered, depth = estimates["forgotten"], estimates["any"], estimates["depth"]
    if forgotten is None or forgotten.value == 0:
        return "nothing forgotten"
    if recovered.low > RECOVERY_THRESHOLD or (depth is not None and depth.high < DEPTH_THRESHOLD):
        return "suppressed"
    if recovered.high < RECOVERY_THRESHOLD and depth is not None and depth.low > DEPTH_THRESHOLD:
        return "erased"
    return "undecided"


@dataclass(frozen=True)
class RecoveryComparison:
    """ReLearn's recovered share of forgotten facts minus one GA/NPO checkpoint's (claimed < 0),
    beside the difference of their forgotten shares (forgetting is matched when its CI holds 0)."""

    relearn: str
    other: str
    difference: Estimate
    verdict: Verdict
    forgotten_difference: Estimate
    p_holm: float | None = None

    @property
    def matched_forgetting(self) -> bool:
        return self.forgotten_difference.low <= 0 <= self.forgotten_difference.high

    def to_json(self) -> dict:
        return {
            "relearn": self.relearn,
            "other": self.other,
            "difference": self.difference.to_json(),
            "verdict": self.verdict,
            "p_holm": self.p_holm,
            "forgotten_difference": self.forgotten_difference.to_json(),
            "matched_forgetting": self.matched_forgetting,
        }


@dataclass
class ErasureTable:
    """Each checkpoint's probe estimates and judgement, and the claim's comparisons: computed once
    from an erasure results JSON, read by the report's table, its figures and the claim."""

    estimates: dict[str, dict[str, Estimate | None]]  # label -> probe -> recovered share
    n_facts: dict[str, int]
    judgements: dict[str, str]
    comparisons: list[RecoveryComparison]
    rules: dict[str, str] = field(
        default_factory=lambda: {"judgement": JUDGEMENT_RULE, "verdict": VERDICT_RULE}
    )

    @property
    def rows(self) -> list[dict]:
        """One JSON row per checkpoint: its estimates (`{value, low, high, n}`) and judgement."""
        return [
            {
                "checkpoint": label,
                "n_facts": self.n_facts[label],
                **{k: (v.to_json() if v is not None else None) for k, v in estimates.items()},
                "judgement": self.judgements[label],
            }
            for label, estimates in self.estimates.items()
        ]

    @property
    def verdict(self) -> Verdict:
        return combine([c.verdict for c in self.comparisons])

    @property
    def claim(self) -> dict:
        """The claim's verdict as erasure.json stores it (`values.claim`)."""
        return {
            "claim": CLAIM,
            "statistic": CLAIM_STATISTIC,
            "comparisons": [c.to_json() for c in self.comparisons],
            "verdict": self.verdict,
            "note": None if self.comparisons else "no ReLearn and GA/NPO checkpoints to compare",
        }


def recovery_comparisons(results: dict, seed: int = 0) -> list[RecoveryComparison]:
    """ReLearn's recovered share of forgotten facts minus each GA/NPO checkpoint's (claimed < 0)."""
    checkpoints = results["values"]["checkpoints"]
    comparisons = []
    for mine in relearn_labels(list(checkpoints)):
        for other in reverse_labels(list(checkpoints)):
            a, b = checkpoints[mine]["per_fact"], checkpoints[other]["per_fact"]
            difference = paired_ratio_difference(
                share_columns(a, "any"), share_columns(b, "any"), seed
            )
            forgetting = paired_ratio_difference(
                (np.asarray(a["forgotten"], float), np.ones(len(a["forgotten"]))),
                (np.asarray(b["forgotten"], float), np.ones(len(b["forgotten"]))),
                seed,
            )
            comparisons.append(
                RecoveryComparison(mine, other, difference, verdict(difference, -1), forgetting)
            )
    corrected = corrected_verdicts([c.difference for c in comparisons], [-1] * len(comparisons))
    return [
        replace(c, verdict=verdict_, p_holm=p)
        for c, (verdict_, p) in zip(comparisons, corrected, strict=True)
    ]


def erasure_table(results: dict, seed: int = 0) -> ErasureTable:
    """Probe estimates and judgement of every checkpoint, and the claim's comparisons."""
    estimates, n_facts, judgements = {}, {}, {}
    for label, values in results["values"]["checkpoints"].items():
        estimates[label] = probe_estimates(values["per_fact"], seed)
        n_facts[label] = len(values["per_fact"]["forgotten"])
        judgements[label] = judge(estimates[label])
    return ErasureTable(estimates, n_facts, judgements, recovery_comparisons(results, seed))
