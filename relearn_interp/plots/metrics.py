"""Figures of the evaluation results: the headline metrics and the precision-change robustness,
each value with its 95% bootstrap CI over facts."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from relearn_interp.metric_intervals import precision_rows
from relearn_interp.plots.intervals import column_estimates, points, yerr
from relearn_interp.plots.style import apply_style, method_colour, order_methods, save_figure
from relearn_interp.statistics import Estimate
from unlearn.eval.scoring import FORGET

HEADLINE = (
    ("forget.KFR", "KFR\n(forget) ↑"),
    ("retain.KRR", "KRR\n(retain) ↑"),
    ("retain.LS", "LS\n(retain) ↑"),
    ("forget.fact_recall", "fact recall\n(forget) ↓"),
    ("retain.fact_recall", "fact recall\n(retain) ↑"),
)
PRECISIONS = ("float32", "float16", "bfloat16")
CI_NOTE = "bars: 95% bootstrap CI over facts"


def plot_metrics(estimates: dict[str, dict[str, Estimate]], out_stem: str | Path) -> list[Path]:
    """Grouped bars with 95% CIs: one group per metric, one bar per checkpoint in the project's
    method colours (`estimates` as `relearn_interp.metric_intervals.metric_estimates` gives)."""
    apply_style()
    labels = order_methods(list(estimates))
    metrics = [(key, title) for key, title in HEADLINE if any(key in estimates[m] for m in labels)]
    fig, ax = plt.subplots(figsize=(1.6 + 1.7 * len(metrics), 3.8))
    width = 0.8 / max(1, len(labels))
    for index, label in enumerate(labels):
        row = [estimates[label].get(key) for key, _ in metrics]
        xs = np.arange(len(metrics)) + (index - (len(labels) - 1) / 2) * width
        ax.bar(xs, points(row), width, label=label, color=method_colour(label), yerr=yerr(row),
               capsize=2, error_kw={"linewidth": 1, "ecolor": "#222222"})  # fmt: skip
    ax.set_xticks(np.arange(len(metrics)), [title for _, title in metrics])
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("score")
    ax.set_title(f"Forgetting, retention and linguistic quality ({CI_NOTE})", fontsize=11)
    ax.legend(ncol=min(3, len(labels)), loc="upper center", bbox_to_anchor=(0.5, -0.15))
    return save_figure(fig, out_stem)


def forgotten_rows(results: dict, precision: str) -> dict[str, float] | None:
    """id -> forgotten (0/1) on the forget set at `precision` (float32: the main evaluation)."""
    if precision != "float32":
        return precision_rows(results, precision)
    items = results.get("items", {}).get(FORGET)
    return {item["id"]: float(item["forgotten"]) for item in items} if items else None


def precision_estimates(evals: dict[str, dict], seed: int = 0) -> dict[str, dict[str, Estimate]]:
    """label -> precision -> KFR with its 95% CI, over the facts scored at every precision the
    checkpoint was run in (one shared resample, so precisions and checkpoints are paired)."""
    table: dict[str, dict[str, Estimate]] = {}
    for label, results in evals.items():
        rows = {p: forgotten_rows(results, p) for p in PRECISIONS}
        rows = {p: r for p, r in rows.items() if r}
        if not rows:
            continue
        shared = sorted(set.intersection(*(set(r) for r in rows.values())))
        if not shared:
            continue
        matrix = np.asarray([[rows[p][i] for p in rows] for i in shared])
        estimates = column_estimates(matrix, seed=seed, proportions=True)  # KFR: 0/1 per fact
        table[label] = dict(zip(rows, estimates, strict=True))
    return table


def plot_precision(estimates: dict[str, dict[str, Estimate]], out_stem: str | Path) -> list[Path]:
    """KFR of each checkpoint when its weights are run in float32, float16 and bfloat16, with
    95% CIs (`estimates` from `precision_estimates`); checkpoints are nudged apart on x."""
    apply_style()
    labels = order_methods(list(estimates))
    precisions = [p for p in PRECISIONS if any(p in estimates[m] for m in labels)]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    nudge = 0.08 * (np.arange(len(labels)) - (len(labels) - 1) / 2)
    for offset, label in zip(nudge, labels, strict=True):
        row = [estimates[label].get(p) for p in precisions]
        ax.errorbar(np.arange(len(precisions)) + offset, points(row), yerr=yerr(row), marker="o",
                    capsize=3, linewidth=1.8, label=label, color=method_colour(label))  # fmt: skip
    ax.set_xticks(range(len(precisions)), precisions)
    ax.set_xlabel("precision of the weights at evaluation")
    ax.set_ylabel("KFR (forget set)")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"Precision change ({CI_NOTE})", fontsize=11)
    ax.legend(ncol=2, fontsize=9, loc="best")
    return save_figure(fig, out_stem)
