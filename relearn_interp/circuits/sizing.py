"""Normalised faithfulness on a grid of circuit sizes, CPR and CMD, and the size that reaches a target.

Normalised faithfulness of a circuit C: f(C) = (m(C) − m(∅)) / (m(M) − m(∅)), the metric means
over the held-out pairs; m(∅) is the corrupted run (every edge patched), m(M) the clean run, so
f is 0 for the empty circuit and 1 for the full model.

The grid is MIB's (Mueller et al., ICML 2025): 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50 and 100% of the
edges, n = int(fraction × n_edges). CPR and CMD follow MIB's `evaluate_area_under_curve`
(log_scale=False): trapezoids over the fractions on a linear axis, from 0.1% to 100%, with no
point at 0, so CPR = Σ (x₂ − x₁)(f₁ + f₂)/2 is at most 0.999 for f ≡ 1 (higher is better) and
CMD = Σ (x₂ − x₁)(|1 − f₁| + |1 − f₂|)/2 is 0 for f ≡ 1 (lower is better). One difference: MIB
ranks edges by signed score for CPR and by |score| for CMD; here both use the |score| ranking.

Size by target: the circuit is the smallest grid size below 100% whose held-out f reaches the
target (0.8 by default). The full model always reaches it, so it does not count: when no smaller
size does, the search fails and reports the best value on the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from relearn_interp.statistics import Estimate, bootstrap
from unlearn.errors import UserError

MIB_GRID = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
DEFAULT_TARGET = 0.8
MIN_GAP = 1e-9


def check_grid(fractions: Sequence[float]) -> tuple[float, ...]:
    """The grid, sorted; refuses fractions outside (0, 1] and a grid that does not end at 1."""
    grid = tuple(sorted({float(f) for f in fractions}))
    if not grid or grid[0] <= 0 or grid[-1] != 1.0:
        raise UserError(
            f"the faithfulness grid must hold fractions in (0, 1] and end at 1 (all edges); got {list(fractions)}"
        )
    return grid


def grid_sizes(n_edges: int, fractions: Sequence[float]) -> list[int]:
    """Edge counts of the grid (MIB: int(fraction × n_edges))."""
    return [int(fraction * n_edges) for fraction in fractions]


def normalised(
    circuit: Float[np.ndarray, "*batch pair"],
    clean: Float[np.ndarray, "*batch pair"],
    corrupted: Float[np.ndarray, "*batch pair"],
) -> Float[np.ndarray, "*batch"]:
    """(mean circuit − mean corrupted) / (mean clean − mean corrupted), NaN when the gap is 0."""
    gap = clean.mean(-1) - corrupted.mean(-1)
    safe = np.where(np.abs(gap) > MIN_GAP, gap, np.nan)
    return (circuit.mean(-1) - corrupted.mean(-1)) / safe


def areas(
    fractions: Sequence[float], faithfulness: Float[np.ndarray, "*batch point"]
) -> tuple[Float[np.ndarray, "*batch"], Float[np.ndarray, "*batch"]]:
    """(CPR, CMD): trapezoid areas under f and under |1 − f| over the fractions (MIB)."""
    x = np.asarray(fractions, dtype=float)
    f = np.asarray(faithfulness, dtype=float)
    widths = np.diff(x)
    cpr = (widths * (f[..., 1:] + f[..., :-1]) / 2).sum(-1)
    distance = np.abs(1.0 - f)
    cmd = (widths * (distance[..., 1:] + distance[..., :-1]) / 2).sum(-1)
    return cpr, cmd


@dataclass(frozen=True)
class SizeChoice:
    """The smallest grid size that reaches the target, or the failure with the best value."""

    target: float
    reached: bool
    index: int | None  # grid point chosen (None: not reached)
    best_index: int
    best_faithfulness: float | None

    def to_json(self, fractions: Sequence[float], sizes: Sequence[int]) -> dict:
        chosen = self.index
        return {
            "target": self.target,
            "reached": self.reached,
            "fraction": fractions[chosen] if chosen is not None else None,
            "requested_edges": sizes[chosen] if chosen is not None else None,
            "best_fraction": fractions[self.best_index],
            "best_requested_edges": sizes[self.best_index],
            "best_faithfulness": self.best_faithfulness,
        }


def size_by_target(
    fractions: Sequence[float], faithfulness: Sequence[float | None], target: float
) -> SizeChoice:
    """The first grid point below 100% with f ≥ target (points are in increasing size)."""
    candidates = [
        (i, f)
        for i, (fraction, f) in enumerate(zip(fractions, faithfulness, strict=True))
        if fraction < 1.0 and f is not None and np.isfinite(f)
    ]
    if not candidates:  # no gap between clean and corrupted runs: nothing to reach
        return SizeChoice(target, False, None, 0, None)
    best_index, best = max(candidates, key=lambda item: item[1])
    chosen = next((i for i, f in candidates if f >= target), None)
    return SizeChoice(target, chosen is not None, chosen, best_index, float(best))


def _pair_statistic(fn):
    """Wrap fn(indices [..., n]) so the shared bootstrap resamples pair indices."""
    return lambda values: fn(np.asarray(values).astype(int))


def faithfulness_estimate(
    circuit: Float[np.ndarray, " pair"],
    clean: Float[np.ndarray, " pair"],
    corrupted: Float[np.ndarray, " pair"],
    seed: int = 0,
) -> Estimate | None:
    """Normalised faithfulness with its paired-bootstrap CI over the pairs (None without a gap)."""
    if not np.isfinite(normalised(circuit, clean, corrupted)):
        return None
    return bootstrap(
        np.arange(len(clean), dtype=float),
        _pair_statistic(lambda idx: normalised(circuit[idx], clean[idx], corrupted[idx])),
        seed=seed,
    )


def curve_estimates(
    clean: Float[np.ndarray, " pair"],
    corrupted: Float[np.ndarray, " pair"],
    circuits: Float[np.ndarray, "point pair"],
    fractions: Sequence[float],
    seed: int = 0,
) -> tuple[list[Estimate | None], Estimate | None, Estimate | None]:
    """Per grid point f, then CPR and CMD, each with its paired-bootstrap CI over the pairs.

    `circuits` has one row per fraction; the row of fraction 1 is the clean run itself.
    """
    per_point = [faithfulness_estimate(row, clean, corrupted, seed) for row in circuits]
    if any(estimate is None for estimate in per_point):
        return per_point, None, None

    def area(k: int):
        def statistic(idx: np.ndarray) -> np.ndarray:
            values = normalised(circuits[:, idx], clean[idx], corrupted[idx])
            return areas(fractions, np.moveaxis(values, 0, -1))[k]

        return _pair_statistic(statistic)

    units = np.arange(len(clean), dtype=float)
    return per_point, bootstrap(units, area(0), seed=seed), bootstrap(units, area(1), seed=seed)
