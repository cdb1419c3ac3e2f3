"""Figures of the evaluation results: the headline metrics and the precision-change robustness."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from relearn_interp.style import apply_style, method_colour, order_methods, save_figure

HEADLINE = (
    ("forget.KFR", "KFR\n(forget) ↑"),
    ("retain.KRR", "KRR\n(retain) ↑"),
    ("retain.LS", "LS\n(retain) ↑"),
    ("forget.fact_recall", "fact recall\n(forget) ↓"),
    ("retain.fact_recall", "fact recall\n(retain) ↑"),
)


def plot_metrics(flat: dict[str, dict[str, float | None]], out_stem: str | Path) -> list[Path]:
    """Grouped bars: one group per metric, one bar per checkpoint in the project's method colours."""
    apply_style()
    labels = order_methods(list(flat))
    metrics = [
        (key, title) for key, title in HEADLINE if any(flat[m].get(key) is not None for m in labels)
    ]
    fig, ax = plt.subplots(figsize=(1.6 + 1.7 * len(metrics), 3.8))
    width = 0.8 / max(1, len(labels))
    for index, label in enumerate(labels):
        values = [flat[label].get(key) for key, _ in metrics]
        xs = np.arange(len(metrics)) + (index - (len(labels) - 1) / 2) * width
        ax.bar(
            xs,
            [np.nan if v is None else v for v in values],
            width,
            label=label,
            color=method_colour(label),
        )
    ax.set_xticks(np.arange(len(metrics)), [title for _, title in metrics])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score")
    ax.set_title("Forgetting, retention and linguistic quality")
    ax.legend(ncol=min(3, len(labels)), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return save_figure(fig, out_stem)


def plot_precision(kfr: dict[str, dict[str, float | None]], out_stem: str | Path) -> list[Path]:
    """KFR of each checkpoint when its weights are run in float32, float16 and bfloat16."""
    apply_style()
    labels = order_methods(list(kfr))
    precisions = [
        p
        for p in ("float32", "float16", "bfloat16")
        if any(kfr[m].get(p) is not None for m in labels)
    ]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for label in labels:
        values = [kfr[label].get(p) for p in precisions]
        ax.plot(
            precisions,
            [np.nan if v is None else v for v in values],
            marker="o",
            label=label,
            color=method_colour(label),
        )
    ax.set_xlabel("precision of the weights at evaluation")
    ax.set_ylabel("KFR (forget set)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Precision change")
    ax.legend(ncol=2, fontsize="small")
    return save_figure(fig, out_stem)
