"""Normalised faithfulness, MIB's CPR/CMD, and the size that reaches a target, on constructed curves."""

from __future__ import annotations

import numpy as np
import pytest

from relearn_interp.circuits.sizing import (
    MIB_GRID,
    areas,
    check_grid,
    curve_estimates,
    grid_sizes,
    normalised,
    size_by_target,
)
from unlearn.errors import UserError

CLEAN = np.array([4.0, 5.0, 6.0, 5.0])
CORRUPTED = np.array([-1.0, 0.0, -2.0, -1.0])


def test_normalised_faithfulness_is_zero_for_the_corrupted_run_and_one_for_the_clean_run():
    assert normalised(CORRUPTED, CLEAN, CORRUPTED) == pytest.approx(0.0)
    assert normalised(CLEAN, CLEAN, CORRUPTED) == pytest.approx(1.0)
    halfway = (CLEAN + CORRUPTED) / 2
    assert normalised(halfway, CLEAN, CORRUPTED) == pytest.approx(0.5)
    assert np.isnan(normalised(CLEAN, CLEAN, CLEAN))  # no gap, no faithfulness


def test_grid_is_mibs_and_sizes_truncate_like_mib():
    assert MIB_GRID == (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    assert grid_sizes(70_651, MIB_GRID) == [
        70,
        141,
        353,
        706,
        1413,
        3532,
        7065,
        14130,
        35325,
        70651,
    ]
    with pytest.raises(UserError, match="end at 1"):
        check_grid([0.1, 0.5])


def test_areas_follow_mibs_trapezoids_on_a_linear_axis():
    cpr, cmd = areas(MIB_GRID, np.ones(10))
    assert cpr == pytest.approx(0.999) and cmd == pytest.approx(0.0)
    cpr, cmd = areas(MIB_GRID, np.zeros(10))
    assert cpr == pytest.approx(0.0) and cmd == pytest.approx(0.999)
    # f = 0 up to 50%, then 1 at 100%: one trapezoid of width 0.5 and mean height 0.5
    f = np.array([0.0] * 9 + [1.0])
    cpr, cmd = areas(MIB_GRID, f)
    assert cpr == pytest.approx(0.25) and cmd == pytest.approx(0.999 - 0.25)
    # overshooting counts against CMD as much as falling short
    assert areas(MIB_GRID, np.full(10, 1.5))[1] == pytest.approx(
        areas(MIB_GRID, np.full(10, 0.5))[1]
    )


def test_size_search_returns_the_smallest_passing_grid_size():
    f = [0.0, 0.1, 0.3, 0.5, 0.79, 0.81, 0.78, 0.95, 0.97, 1.0]  # not monotone at 10%
    choice = size_by_target(MIB_GRID, f, 0.8)
    sizes = grid_sizes(1000, MIB_GRID)
    assert choice.reached and choice.index == 5 and sizes[choice.index] == 50
    assert choice.best_index == 8 and choice.best_faithfulness == pytest.approx(0.97)
    assert size_by_target(MIB_GRID, f, 0.96).index == 8


def test_size_search_reports_failure_with_the_best_value():
    f = [0.0, 0.1, 0.3, 0.5, 0.6, 0.62, 0.7, 0.75, 0.71, 1.0]  # only the full model passes
    choice = size_by_target(MIB_GRID, f, 0.8)
    assert not choice.reached and choice.index is None
    assert choice.best_index == 7 and choice.best_faithfulness == pytest.approx(0.75)
    summary = choice.to_json(MIB_GRID, grid_sizes(1000, MIB_GRID))
    assert summary["reached"] is False and summary["requested_edges"] is None
    assert summary["best_fraction"] == 0.2 and summary["best_requested_edges"] == 200
    # without a clean−corrupted gap nothing is reached, and there is no best value
    empty = size_by_target(MIB_GRID, [None] * 9 + [1.0], 0.8)
    assert not empty.reached and empty.best_faithfulness is None


def test_curve_estimates_give_intervals_that_hold_the_point():
    rng = np.random.default_rng(0)
    n = 12
    clean, corrupted = 5 + rng.normal(size=n), rng.normal(size=n)
    recovered = np.array([0.0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9, 0.95, 1.0])
    circuits = corrupted + recovered[:, None] * (clean - corrupted) + 0.1 * rng.normal(size=(10, n))
    circuits[-1] = clean
    points, cpr, cmd = curve_estimates(clean, corrupted, circuits, MIB_GRID)
    assert all(p.low <= p.value <= p.high for p in points)
    assert points[-1].value == pytest.approx(1.0) and points[-1].high - points[-1].low < 1e-12
    assert cpr.low <= cpr.value <= cpr.high and cmd.low <= cmd.value <= cmd.high
    assert cpr.value == pytest.approx(areas(MIB_GRID, np.array([p.value for p in points]))[0])
