"""95% bootstrap CIs for figures (Wilson intervals for columns of 0/1 outcomes), from per-fact values, on the one shared resample of
`relearn_interp.statistics` (so a figure's error bars and the report's numbers agree).

A figure often needs one interval per column (a layer, a rank, a destination): every column is
evaluated on the same resampled facts, in one vectorised pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from jaxtyping import Float

from relearn_interp.statistics import (
    Estimate,
    interval,
    is_binary,
    replicates,
    resample_indices,
    wilson,
)


def column_estimates(
    matrix: Float[np.ndarray, "n c"],
    statistic: Callable[[np.ndarray], np.ndarray] | None = None,
    seed: int = 0,
    proportions: bool = False,
) -> list[Estimate]:
    """A statistic of the columns with 95% CIs; rows are facts, resampled once for all columns.

    The default statistic is each column's mean over facts (NaN refused); a custom one maps the
    columns, [..., c, n], to k values, [..., k]. `proportions`: the columns are 0/1 outcomes, each
    of which gets a Wilson interval.
    """
    matrix = np.asarray(matrix, dtype=float)
    columns = matrix.T  # [c, n]: the unit axis last, as `replicates` wants
    indices = resample_indices(matrix.shape[0], seed=seed)
    if statistic is None:
        point = columns.mean(axis=-1)
        spread = replicates(columns, indices)
    else:
        point = np.atleast_1d(np.asarray(statistic(columns), dtype=float))
        spread = replicates(columns, indices, statistic)
    spread = spread.reshape(spread.shape[0], -1)
    n = matrix.shape[0]
    return [
        wilson(int(columns[j].sum()), n)  # a column of 0/1 outcomes is a proportion
        if proportions and statistic is None and is_binary(columns[j])
        else interval(float(point[j]), spread[:, j], n)
        for j in range(point.size)
    ]


def share_estimates(
    parts: Float[np.ndarray, "n k"], totals: Float[np.ndarray, " n"], seed: int = 0
) -> list[Estimate]:
    """Σ parts[:, j] / Σ totals over facts for each column j (e.g. the share of the moved mass
    that went to each destination), with 95% CIs; 0 where the total is 0."""
    stacked = np.column_stack([np.asarray(parts, float), np.asarray(totals, float)])

    def shares(columns: np.ndarray) -> np.ndarray:  # [..., k + 1, n] -> [..., k]
        sums = columns.sum(axis=-1)
        total = sums[..., -1:]
        return np.where(total > 0, sums[..., :-1] / np.where(total > 0, total, 1.0), 0.0)

    return column_estimates(stacked, shares, seed)


def yerr(estimates: Sequence[Estimate | None]) -> Float[np.ndarray, "2 k"]:
    """Matplotlib's asymmetric error bars (below, above) of each estimate; NaN where missing."""
    rows = [
        [np.nan, np.nan] if e is None else [max(e.value - e.low, 0.0), max(e.high - e.value, 0.0)]
        for e in estimates
    ]
    return np.asarray(rows, dtype=float).reshape(len(rows), 2).T


def points(estimates: Sequence[Estimate | None]) -> Float[np.ndarray, " k"]:
    """Each estimate's value; NaN where missing."""
    return np.array([np.nan if e is None else e.value for e in estimates], dtype=float)
