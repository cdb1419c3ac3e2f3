"""From an erasure results JSON to the report's table: recovery shares with 95% CIs, the erased /
suppressed judgement of each checkpoint, and the verdict of the claim "at matched forgetting,
ReLearn's forgotten facts are harder to recover than GA/NPO's".

Every interval is the shared paired bootstrap over facts (`relearn_interp.statistics`): a share of
the forgotten facts is a ratio of per-fact sums (recovered / forgotten, as [2, n] columns), and
every checkpoint (and every difference between two) is evaluated on the same resampled facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from jaxtyping import Float

from relearn_interp.statistics import (
    VERDICT_RULE,
    Estimate,
    Verdict,
    bootstrap,
    combine,
    paired_difference,
    verdict,
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
    estimates["forgotten"] = bootstrap(np.asarray(per_fact["forgotten"], dtype=float), seed=seed)
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


def _family(label: str) -> str:
    return label.lower().split("_")[0]


@dataclass
class ErasureTable:
    """The report's erasure table, judgements and claim row."""

    rows: list[dict]
    judgements: dict[str, str]
    claim: dict
    rules: dict[str, str] = field(
        default_factory=lambda: {"judgement": JUDGEMENT_RULE, "verdict": VERDICT_RULE}
    )


def claim_verdict(results: dict, seed: int = 0) -> dict:
    """ReLearn's recovered share of forgotten facts minus each GA/NPO checkpoint's (claimed < 0)."""
    checkpoints = results["values"]["checkpoints"]
    ours = [label for label in checkpoints if _family(label) == "relearn"]
    theirs = [label for label in checkpoints if _family(label) in ("ga", "npo")]
    comparisons = []
    for mine in ours:
        for other in theirs:
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
                {
                    "relearn": mine,
                    "other": other,
                    "difference": difference.to_json(),
                    "verdict": verdict(difference, -1),
                    "forgotten_difference": forgetting.to_json(),
                    "matched_forgetting": forgetting.low <= 0 <= forgetting.high,
                }
            )
    overall: Verdict = combine([c["verdict"] for c in comparisons])
    return {
        "claim": CLAIM,
        "statistic": "share of forgotten facts recovered by any probe: ReLearn minus GA/NPO "
        "(claimed negative); matched_forgetting: the CI of the forgotten-share difference holds 0",
        "comparisons": comparisons,
        "verdict": overall,
        "note": None if comparisons else "no ReLearn and GA/NPO checkpoints to compare",
    }


def erasure_table(results: dict, seed: int = 0) -> ErasureTable:
    """Table rows (one per checkpoint, Estimates as JSON), judgements and the claim's verdict."""
    rows, judgements = [], {}
    for label, values in results["values"]["checkpoints"].items():
        estimates = probe_estimates(values["per_fact"], seed)
        judgements[label] = judge(estimates)
        rows.append(
            {
                "checkpoint": label,
                "n_facts": len(values["per_fact"]["forgotten"]),
                **{k: (v.to_json() if v is not None else None) for k, v in estimates.items()},
                "judgement": judgements[label],
            }
        )
    return ErasureTable(rows, judgements, claim_verdict(results, seed))
