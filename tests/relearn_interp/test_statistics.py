"""The shared paired bootstrap and the three-valued verdict rule."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from relearn_interp.statistics import (
    Estimate,
    bootstrap,
    combine,
    corrected_verdicts,
    equivalence,
    holm,
    paired_difference,
    replicates,
    resample_indices,
    sign_flip_p,
    verdict,
    wilson,
)
from unlearn.errors import UserError


def test_two_units_match_the_hand_computed_percentiles():
    # Means of resamples of {0, 2} are 0, 1 or 2 with probabilities 1/4, 1/2, 1/4: the 2.5th
    # percentile is 0 and the 97.5th is 2, the point estimate 1. (0/1 values are a proportion,
    # which gets a Wilson interval instead: the next test.)
    estimate = bootstrap([0.0, 2.0], n_resamples=4000, seed=3)
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == (1.0, 0.0, 2.0, 2)


def test_the_wilson_interval_of_0_of_13_matches_a_hand_computation():
    # Wilson: (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n); at p = 0 the upper bound is
    # (z²/n) / (1 + z²/n) = z² / (n + z²) = 3.8415 / 16.8415 = 0.2281.
    z2 = 1.959963984540054**2
    estimate = bootstrap(np.zeros(13), proportion=True)
    assert (estimate.value, estimate.low, estimate.n) == (0.0, 0.0, 13)
    assert estimate.high == pytest.approx(z2 / (13 + z2), abs=1e-9)
    assert wilson(0, 13).high == pytest.approx(0.2281, abs=1e-4)
    # A percentile bootstrap of the same 13 zeros gives [0, 0]: right for a continuous quantity
    # that is 0 on every unit, which is why Wilson is asked for, not guessed from the values.
    assert bootstrap(np.zeros(13)).high == 0.0


def test_holm_adjusts_step_down_and_changes_a_borderline_verdict():
    # p = (0.01, 0.04, 0.03) with m = 3: sorted 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.06, 0.04·1)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    # A borderline difference (p = 0.04 alone: supported) is inconclusive beside two others.
    borderline = Estimate(0.2, 0.01, 0.4, 30, p=0.04)
    assert corrected_verdicts([borderline], [+1]) == [("supported", pytest.approx(0.04))]
    family = [borderline, Estimate(0.1, -0.1, 0.3, 30, p=0.5), Estimate(0.1, -0.2, 0.4, 30, p=0.6)]
    verdicts = corrected_verdicts(family, [+1, +1, +1])
    assert verdicts[0] == ("inconclusive", pytest.approx(0.12))
    # Both directions: a strong difference against the claim is contradicted after correction.
    against = Estimate(-0.3, -0.5, -0.1, 30, p=0.001)
    assert corrected_verdicts([against, borderline], [+1, +1])[0][0] == "contradicted"


def test_the_bootstrap_p_of_a_difference_is_small_only_when_its_ci_excludes_0():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    shifted = paired_difference(a + 1.0, a + rng.normal(scale=0.5, size=40))
    same = paired_difference(a, a + rng.normal(scale=0.5, size=40))
    assert shifted.p < 0.01 and shifted.low > 0
    assert same.p > 0.05 and same.low < 0 < same.high


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


@pytest.mark.parametrize(
    ("centre", "outcome"),
    [(0.0, "equivalent"), (1.0, "beyond the margin"), (0.3, "inconclusive")],
)
def test_tost_gives_all_three_outcomes(centre, outcome):
    # 40 units of spread 0.1 around `centre`: the 90% CI is about ±0.03 wide, the margin 0.3.
    values = centre + np.random.default_rng(4).normal(0, 0.1, 40)
    test = equivalence(values, margin=0.3)
    assert test.outcome == outcome, test.fmt()
    assert test.estimate.low < test.estimate.value < test.estimate.high


def test_tost_uses_the_90_percent_interval():
    values = np.random.default_rng(5).normal(0, 1, 30)
    assert equivalence(values, 5.0).estimate == bootstrap(values, confidence=0.90)
    with pytest.raises(ValueError):
        equivalence(values, 0.0)


def test_the_sign_flip_test_matches_an_exhaustive_enumeration_on_7_units():
    d = np.array([0.3, -0.1, 0.5, 0.2, 0.4, -0.2, 0.6])
    flips = [abs((d * np.array(signs)).mean()) for signs in itertools.product((1, -1), repeat=7)]
    by_hand = sum(f >= abs(d.mean()) - 1e-12 for f in flips) / 2**7
    assert sign_flip_p(d) == pytest.approx(by_hand) == pytest.approx(14 / 128)
    # Under 20 units, a paired difference carries the exact p, not the bootstrap's.
    assert paired_difference(d, np.zeros(7)).p == pytest.approx(by_hand)
