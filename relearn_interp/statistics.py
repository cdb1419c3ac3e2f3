"""The one bootstrap every analysis uses: a 95% paired percentile bootstrap over units (facts or
prompt pairs), and the three-valued verdict rule of ../shared/CLAIMS.md.

"Paired" means one resample of unit indices, drawn once from the seed, is applied to every
checkpoint's per-unit values: a method difference is then computed on the same resampled facts
for both methods, and gets its own interval. `resample_indices(n, ...)` is deterministic in
(n, n_resamples, seed), so two analyses over the same n facts share their resample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from jaxtyping import Float, Int

from unlearn.errors import UserError

N_RESAMPLES = 2000
CONFIDENCE = 0.95
Verdict = Literal["supported", "contradicted", "inconclusive"]
VERDICT_RULE = (
    "supported: the 95% paired-bootstrap CI of the claimed difference excludes 0 in the claimed "
    "direction; contradicted: it excludes 0 the other way; inconclusive: otherwise"
)


@dataclass(frozen=True)
class Estimate:
    """A statistic with its percentile-bootstrap CI over `n` units."""

    value: float
    low: float
    high: float
    n: int

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)

    def fmt(self, digits: int = 3, signed: bool = False) -> str:
        """`0.512 [0.401, 0.620]` (with a sign when `signed`)."""
        sign = "+" if signed else ""
        return f"{self.value:{sign}.{digits}f} [{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}]"


def resample_indices(
    n: int, n_resamples: int = N_RESAMPLES, seed: int = 0
) -> Int[np.ndarray, "resample n"]:
    """Bootstrap resamples of unit indices, the same for every caller with the same (n, seed)."""
    if n < 1:
        raise UserError("a bootstrap needs at least one unit (fact or prompt pair); got none")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _as_units(
    values: Sequence[float] | np.ndarray, allow_nan: bool = False
) -> Float[np.ndarray, "*k n"]:
    """Per-unit values as floats; NaN only where a custom statistic handles it (nanmean...)."""
    array = np.asarray(values, dtype=float)
    if array.ndim not in (1, 2) or array.shape[-1] == 0:
        raise UserError(
            f"bootstrap values must be [n] or [k, n] with n >= 1 units, got shape {array.shape}"
        )
    if np.isinf(array).any() or (not allow_nan and np.isnan(array).any()):
        raise UserError("bootstrap values contain NaN or inf; drop or fill those units first")
    return array


def interval(
    point: float, replicates: Float[np.ndarray, " resample"], n: int, confidence: float = CONFIDENCE
) -> Estimate:
    """Percentile interval of bootstrap replicates around the point estimate (resamples where
    the statistic is undefined, NaN, are left out)."""
    tail = (1 - confidence) / 2 * 100
    low, high = np.nanpercentile(replicates, [tail, 100 - tail])
    return Estimate(float(point), float(low), float(high), n)


def unit_mean(x: np.ndarray) -> np.ndarray:
    """The default statistic: the mean over units (the last axis), NaN not allowed."""
    return x.mean(axis=-1)


def replicates(
    values: Sequence[float] | np.ndarray,
    indices: Int[np.ndarray, "resample n"],
    statistic: Callable[[np.ndarray], np.ndarray] = unit_mean,
) -> Float[np.ndarray, " resample"]:
    """The statistic on every resample of the per-unit values (unit axis last).

    `values` is [n] or [k, n] (k columns of one unit each, e.g. PPL, Brunet and Honoré per answer);
    `statistic` maps [..., n] (or [..., k, n]) to [...]. Using one `indices` for every checkpoint
    is what makes differences paired.
    """
    array = _as_units(values, allow_nan=statistic is not unit_mean)
    resampled = array[..., indices]  # [resample, n] or [k, resample, n]
    if array.ndim == 2:
        resampled = np.moveaxis(resampled, 0, -2)  # [resample, k, n]
    return np.asarray(statistic(resampled), dtype=float)


def bootstrap(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray] = unit_mean,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """The statistic (default: the mean) of per-unit values, with its percentile CI."""
    array = _as_units(values, allow_nan=statistic is not unit_mean)
    n = array.shape[-1]
    indices = resample_indices(n, n_resamples, seed)
    point = float(statistic(array))
    return interval(point, replicates(array, indices, statistic), n, confidence)


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray] = unit_mean,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """statistic(a) − statistic(b) over the same units, resampled together (unit i of a pairs
    with unit i of b)."""
    custom = statistic is not unit_mean
    left, right = _as_units(a, allow_nan=custom), _as_units(b, allow_nan=custom)
    if left.shape[-1] != right.shape[-1]:
        raise UserError(
            "a paired bootstrap needs the same units on both sides; got "
            f"{left.shape[-1]} and {right.shape[-1]}"
        )
    n = left.shape[-1]
    indices = resample_indices(n, n_resamples, seed)
    point = float(statistic(left)) - float(statistic(right))
    spread = replicates(left, indices, statistic) - replicates(right, indices, statistic)
    return interval(point, spread, n, confidence)


def verdict(difference: Estimate, direction: int) -> Verdict:
    """Three-valued verdict on a claimed difference: `direction` +1 claims it is positive, −1 negative."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction}")
    low, high = sorted((difference.low * direction, difference.high * direction))
    if low > 0:
        return "supported"
    if high < 0:
        return "contradicted"
    return "inconclusive"


def combine(verdicts: Sequence[Verdict]) -> Verdict:
    """A claim made of several comparisons (e.g. ReLearn vs each GA/NPO method): supported only
    if every comparison is, contradicted if any is contradicted, inconclusive otherwise."""
    if not verdicts:
        return "inconclusive"
    if "contradicted" in verdicts:
        return "contradicted"
    if all(v == "supported" for v in verdicts):
        return "supported"
    return "inconclusive"
