"""Every bar and line that shows a statistic carries its 95% CI, and that CI is the shared paired
bootstrap's (`relearn_interp.statistics`), the same numbers the report prints."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer

from relearn_interp.metric_intervals import metric_estimates
from relearn_interp.plots import lens, metrics, shift
from relearn_interp.plots.intervals import column_estimates, share_estimates
from relearn_interp.statistics import bootstrap


@pytest.fixture
def drawn(monkeypatch) -> list[plt.Figure]:
    """The figures the plot functions would save, kept open for inspection."""
    figures: list[plt.Figure] = []

    def keep(fig, out_stem, *args, **kwargs):
        figures.append(fig)
        return []

    for module in (lens, metrics, shift):
        monkeypatch.setattr(module, "save_figure", keep)
    yield figures
    for fig in figures:
        plt.close(fig)


def same(a, b) -> bool:
    """Two estimates agree (to float rounding: a column mean may sum in another order)."""
    return a.n == b.n and (a.value, a.low, a.high) == pytest.approx((b.value, b.low, b.high))


def error_bar_spans(ax) -> list[tuple[float, float]]:
    """(low, high) of every vertical error bar drawn on the axes, left to right."""
    spans = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            for segments in container.lines[2]:
                spans += [(seg[0][0], seg[0][1], seg[1][1]) for seg in segments.get_segments()]
    return [(low, high) for _, low, high in sorted(spans)]


def test_column_estimates_are_the_shared_bootstrap_of_each_column():
    rng = np.random.default_rng(3)
    matrix = rng.random((25, 4))
    for column, estimate in zip(matrix.T, column_estimates(matrix, seed=7), strict=True):
        assert same(estimate, bootstrap(column, seed=7))
    parts = rng.random((25, 3))
    totals = parts.sum(axis=1) + rng.random(25)
    shares = share_estimates(parts, totals)
    assert [s.value for s in shares] == pytest.approx(parts.sum(axis=0) / totals.sum())
    assert all(s.low < s.value < s.high for s in shares)


def test_metric_bars_carry_the_reported_intervals(tiny_shaped_run, drawn):
    estimates = metric_estimates(tiny_shaped_run.evals)
    metrics.plot_metrics(estimates, "unused")
    (ax,) = drawn[0].axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    keys = [key for key, _ in metrics.HEADLINE]
    expected = sorted(
        (index + (m - (len(labels) - 1) / 2) * 0.8 / len(labels), estimates[label][key])
        for m, label in enumerate(labels)
        for index, key in enumerate(keys)
    )
    spans = error_bar_spans(ax)
    assert len(spans) == len(labels) * len(keys)
    for (low, high), (_, estimate) in zip(spans, expected, strict=True):
        assert (low, high) == pytest.approx((estimate.low, estimate.high))


def test_precision_lines_carry_kfr_intervals_from_the_per_fact_rounding_rows(
    tiny_shaped_run, drawn
):
    evals = tiny_shaped_run.evals
    table = metrics.precision_estimates(evals)
    rows = evals["ga_gdr"]["items"]["robustness"]["float16"]["forget"]
    fp16 = [float(row["forgotten"]) for row in sorted(rows, key=lambda r: r["id"])]
    assert same(table["ga_gdr"]["float16"], bootstrap(fp16, proportion=True))
    # float32 is the main evaluation, the same number as the metrics table's KFR
    assert same(table["ga_gdr"]["float32"], metric_estimates(evals)["ga_gdr"]["forget.KFR"])
    metrics.plot_precision(table, "unused")
    (ax,) = drawn[0].axes
    assert len(error_bar_spans(ax)) == 3 * len(table)


def test_lens_curves_have_a_band_per_checkpoint_and_panel(tiny_shaped_run, drawn):
    results = tiny_shaped_run.lens[tiny_shaped_run.forget_split]
    bands = lens.site_bands(results, "relearn", "target_prob")
    probs = np.asarray([item["checkpoints"]["relearn"]["target_prob"] for item in results["items"]])
    assert [b.value for b in bands] == pytest.approx(probs.mean(axis=0))
    ranks = np.asarray([item["checkpoints"]["relearn"]["target_rank"] for item in results["items"]])
    medians = lens.site_bands(results, "relearn", "target_rank")
    assert [b.value for b in medians] == pytest.approx(np.median(ranks, axis=0))
    # the fact without related tokens is left out of the related mass, not counted as 0
    assert lens.site_bands(results, "relearn", "related_mass")[0].n == len(results["items"]) - 1
    lens.plot_lens_layers(results, "unused")
    n_checkpoints = len(results["values"]["checkpoints"])
    for ax in drawn[0].axes:
        polygons = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(polygons) == n_checkpoints


def test_shift_bars_are_pooled_like_the_saved_summary_with_intervals(tiny_shaped_run, drawn):
    results = tiny_shaped_run.shift[tiny_shaped_run.forget_split]
    mass = shift.moved_mass(results)
    rows = [item["models"]["npo_gdr"] for item in results["items"]]
    tv = sum(sum(row["tv"]) for row in rows)
    unrelated = sum(sum(row["moved_to_unrelated"]) for row in rows)
    assert mass["npo_gdr"]["unrelated"].value == pytest.approx(unrelated / tv)
    positions = sum(len(row["tv"]) for row in rows)
    assert mass["npo_gdr"]["tv"].value == pytest.approx(tv / positions)
    shift.plot_shift_mass(results, "unused")
    shift.plot_shift_entropy(results, "unused")
    models = results["values"]["models"]
    tv_axes, where_axes = drawn[0].axes
    assert len(error_bar_spans(tv_axes)) == len(models)
    assert len(error_bar_spans(where_axes)) == len(models) * len(results["meta"]["destinations"])
    assert len(error_bar_spans(drawn[1].axes[1])) == len(models)


def test_rank_curves_are_shares_of_positions_averaged_over_facts(tiny_shaped_run):
    results = tiny_shaped_run.shift[tiny_shaped_run.forget_split]
    grid, curves = shift.rank_curves(results)
    assert grid[0] == 1 and np.all(np.diff(grid) > 0)
    ranks = [np.asarray(item["models"]["relearn"]["base_top1_rank"]) for item in results["items"]]
    at_ten = int(np.searchsorted(grid, 10))
    expected = np.mean([np.mean(r <= grid[at_ten]) for r in ranks])
    assert curves["relearn"][at_ten].value == pytest.approx(expected)
    values = [e.value for e in curves["relearn"]]
    assert values == sorted(values) and values[-1] == pytest.approx(1.0)
