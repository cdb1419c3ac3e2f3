"""The one bootstrap every analysis uses: a 95% paired percentile bootstrap over units (facts or
prompt pairs), and the three-valued verdict rule of ../shared/CLAIMS.md.

"Paired" means one resample of unit indices, drawn once from the seed, is applied to every
checkpoint's per-unit values: a method difference is then computed on the same resampled facts
for both methods, and gets its own interval. `resample_indices(n, ...)` is deterministic in
(n, n_resamples, seed), so two analyses over the same n facts share their resample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np
from jaxtyping import Float, Int
from scipy.stats import binomtest, permutation_test

from unlearn.errors import UserError

N_RESAMPLES = 2000
CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
Verdict = Literal["supported", "contradicted", "inconclusive"]
CORRECTION = (
    "Holm's step-down correction over the comparisons of one claim, on two-sided p-values "
    "(both directions): paired bootstrap, or the exact sign-flip test under 20 units"
)
VERDICT_RULE = (
    f"supported: the claimed difference is non-zero at α = {ALPHA:.2f} after {CORRECTION}, in "
    "the claimed direction; contradicted: non-zero the other way; inconclusive: otherwise "
    "(the 95% paired-bootstrap CIs shown are uncorrected; a proportion of 0/1 outcomes gets a "
    "Wilson interval)"
)


@dataclass(frozen=True)
class Estimate:
    """A statistic with its percentile-bootstrap CI over `n` units."""

    value: float
    low: float
    high: float
    n: int
    p: float | None = None  # two-sided bootstrap p of "≠ 0", on differences only

    def to_json(self) -> dict[str, float | int]:
        return {k: v for k, v in asdict(self).items() if k != "p" or v is not None}

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


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Estimate:
    """A proportion k/n with its Wilson score interval, which stays honest at 0/n and n/n (a
    percentile bootstrap of 0/13 is [0, 0]; Wilson's upper bound is 0.23)."""
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return Estimate(successes / n, float(ci.low), float(ci.high), int(n))


def is_binary(values: np.ndarray) -> bool:
    """Whether every unit is a 0/1 outcome (what a proportion's Wilson interval needs)."""
    return values.ndim == 1 and bool(np.isin(values, (0.0, 1.0)).all())


EXACT_BELOW = 20  # under this many units a difference's p comes from the exact sign-flip test


def sign_flip_p(differences: Float[np.ndarray, " n"]) -> float:
    """Exact two-sided sign-flip p of "the mean paired difference is 0": every one of the 2^n
    sign patterns of the per-unit differences (valid at small n, where a bootstrap is not)."""
    result = permutation_test(
        (np.asarray(differences, dtype=float),),
        lambda x, axis: np.mean(x, axis=axis),
        permutation_type="samples",
        n_resamples=np.inf,
        alternative="two-sided",
        vectorized=True,
    )
    return float(result.pvalue)


def bootstrap_p(spread: Float[np.ndarray, " resample"]) -> float:
    """Two-sided bootstrap p-value of "the difference is 0": twice the smaller tail of the
    replicates at or beyond 0, with the +1 of an exact test so that it is never 0."""
    kept = spread[~np.isnan(spread)]
    below, above = np.sum(kept <= 0), np.sum(kept >= 0)
    return float(min(1.0, 2 * (min(below, above) + 1) / (kept.size + 1)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (step-down, monotone, capped at 1), in the input order."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted, running = [0.0] * m, 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[index])))
        adjusted[index] = running
    return adjusted


def corrected_verdicts(
    differences: Sequence[Estimate], directions: Sequence[int], alpha: float = ALPHA
) -> list[tuple[Verdict, float]]:
    """Each claimed difference's verdict and Holm-adjusted p within one claim's family: non-zero
    when the adjusted p < alpha, then supported or contradicted by the sign against `direction`."""
    adjusted = holm([d.p if d.p is not None else 1.0 for d in differences])
    verdicts = []
    for difference, direction, p in zip(differences, directions, adjusted, strict=True):
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 or -1, got {direction}")
        if p >= alpha or difference.value == 0:
            verdicts.append(("inconclusive", p))
        else:
            agrees = difference.value * direction > 0
            verdicts.append(("supported" if agrees else "contradicted", p))
    return verdicts


Equivalence = Literal["equivalent", "beyond the margin", "inconclusive"]


@dataclass(frozen=True)
class EquivalenceTest:
    """Two one-sided tests (TOST) at level α of "|mean| < margin", read off the 1 − 2α bootstrap
    CI: equivalent when it lies inside (−margin, margin), beyond the margin when it lies wholly
    outside it, inconclusive otherwise."""

    estimate: Estimate  # the mean with its 90% CI (α = 0.05)
    margin: float
    outcome: Equivalence

    def fmt(self, digits: int = 2) -> str:
        return (
            f"{self.estimate.fmt(digits, signed=True)} (90% CI) against ±{self.margin:.{digits}f}: "
            f"{self.outcome}"
        )


def equivalence(
    values: Sequence[float] | np.ndarray, margin: float, seed: int = 0, alpha: float = ALPHA
) -> EquivalenceTest:
    """TOST of per-unit values against a margin > 0 (the CI is the bootstrap's, at 1 − 2α)."""
    if not margin > 0:
        raise ValueError(f"an equivalence margin must be > 0, got {margin}")
    estimate = bootstrap(values, seed=seed, confidence=1 - 2 * alpha)
    if -margin < estimate.low and estimate.high < margin:
        outcome: Equivalence = "equivalent"
    elif estimate.low >= margin or estimate.high <= -margin:
        outcome = "beyond the margin"
    else:
        outcome = "inconclusive"
    return EquivalenceTest(estimate, margin, outcome)


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
    proportion: bool = False,
) -> Estimate:
    """The statistic (default: the mean) of per-unit values, with its percentile CI; a
    `proportion` of 0/1 outcomes (KFR, recall) gets the Wilson interval instead."""
    array = _as_units(values, allow_nan=statistic is not unit_mean)
    n = array.shape[-1]
    if proportion and statistic is unit_mean and is_binary(array):
        return wilson(int(array.sum()), n, confidence)
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
    exact = not custom and left.ndim == 1 and n < EXACT_BELOW
    p = sign_flip_p(left - right) if exact else bootstrap_p(spread)
    return replace(interval(point, spread, n, confidence), p=p)


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
