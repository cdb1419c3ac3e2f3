"""The shared paired bootstrap and the three-valued verdict rule."""

from __future__ import annotations

import numpy as np
import pytest

from relearn_interp.statistics import (
    Estimate,
    bootstrap,
    combine,
    paired_difference,
    replicates,
    resample_indices,
    verdict,
)
from unlearn.errors import UserError


def test_two_units_match_the_hand_computed_percentiles():
    # Means of resamples of {0, 1} are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4: the 2.5th
    # percentile is 0 and the 97.5th is 1, the point estimate 0.5.
    estimate = bootstrap([0.0, 1.0], n_resamples=4000, seed=3)
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == (0.5, 0.0, 1.0, 2)


def test_paired_difference_is_exact_when_the_difference_is_constant():
    a = np.array([0.3, 0.9, 0.1, 0.5])
    estimate = paired_difference(a + 0.25, a)
    assert estimate.value == pytest.approx(0.25)
    assert estimate.low == pytest.approx(0.25) and estimate.high == pytest.approx(0.25)


def test_paired_and_unpaired_intervals_differ():
    rng = np.random.default_rng(0)
    shared = rng.normal(size=40)
    a, b = shared + 0.1, shared
    paired = paired_difference(a, b)
    separate_low = bootstrap(a).low - bootstrap(b).high
    assert paired.low > separate_low  # pairing removes the shared spread


def test_resample_is_shared_and_deterministic():
    first = resample_indices(7, 50, seed=1)
    assert np.array_equal(first, resample_indices(7, 50, seed=1))
    assert not np.array_equal(first, resample_indices(7, 50, seed=2))
    assert first.min() >= 0 and first.max() < 7


def test_percentile_interval_matches_a_hand_computed_resample():
    values = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    indices = resample_indices(5, 1000, seed=0)
    by_hand = np.sort([values[row].mean() for row in indices])
    estimate = bootstrap(values, n_resamples=1000, seed=0)
    assert estimate.low == pytest.approx(np.percentile(by_hand, 2.5))
    assert estimate.high == pytest.approx(np.percentile(by_hand, 97.5))


def test_multi_column_statistic():
    columns = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    ratio = replicates(
        columns, resample_indices(3, 20), lambda x: x[..., 1, :].sum(-1) / x[..., 0, :].sum(-1)
    )
    assert np.allclose(ratio, 10.0)


@pytest.mark.parametrize(
    ("low", "high", "direction", "expected"),
    [
        (0.1, 0.4, 1, "supported"),
        (-0.4, -0.1, 1, "contradicted"),
        (-0.1, 0.3, 1, "inconclusive"),
        (-0.4, -0.1, -1, "supported"),
        (0.1, 0.4, -1, "contradicted"),
        (0.0, 0.3, 1, "inconclusive"),
        (-0.1, 0.3, -1, "inconclusive"),
        (-0.3, 0.1, -1, "inconclusive"),
    ],
)
def test_verdict_rule(low, high, direction, expected):
    assert verdict(Estimate((low + high) / 2, low, high, 30), direction) == expected


def test_combine():
    assert combine(["supported", "supported"]) == "supported"
    assert combine(["supported", "inconclusive"]) == "inconclusive"
    assert combine(["supported", "contradicted"]) == "contradicted"
    assert combine([]) == "inconclusive"


def test_bad_values_are_one_line_errors():
    with pytest.raises(UserError, match="NaN"):
        bootstrap([1.0, float("nan")])
    with pytest.raises(UserError, match="same units"):
        paired_difference([1.0, 2.0], [1.0])
    with pytest.raises(UserError, match="at least one unit|n >= 1"):
        bootstrap([])
