"""Distribution-shift figures: entropy per checkpoint, the rank of the vanilla top-1 token, and
where the moved mass went; every statistic with its 95% bootstrap CI over facts (prompts)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from relearn_interp.claims.distribution import entropy_change_per_fact
from relearn_interp.plots.intervals import column_estimates, points, share_estimates, yerr
from relearn_interp.plots.style import apply_style, method_colour, order_methods, save_figure
from relearn_interp.statistics import Estimate, bootstrap

CI_NOTE = "95% bootstrap CI over facts"


def _models(results: dict) -> list[str]:
    return order_methods(list(results["values"]["models"]))


def _bars(ax, labels: list[str], estimates: list[Estimate | None]) -> None:
    """One bar per checkpoint in its colour, with its CI."""
    ax.bar(range(len(labels)), points(estimates), 0.65, yerr=yerr(estimates), capsize=3,
           color=[method_colour(label) for label in labels], error_kw={"linewidth": 1})  # fmt: skip
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", rotation_mode="anchor")


def plot_shift_entropy(results: dict, out_stem: str | Path, seed: int = 0) -> list[Path]:
    """Left: next-token entropy at every answer position (the base and each checkpoint). Right:
    the mean per-fact entropy change against the base, with its CI (the entropy claim's statistic)."""
    apply_style()
    base_label = results["values"]["base_label"]
    models = _models(results)
    columns = {base_label: [v for item in results["items"] for v in item["base_entropy"]]}
    for label in models:
        columns[label] = [
            v for item in results["items"] for v in item["models"][label]["entropy_model"]
        ]
    labels = list(columns)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(1.2 * len(labels) + 1.0 * len(models) + 4.5, 4.4),
        gridspec_kw={"width_ratios": [len(labels), max(1, len(models))]},
    )  # fmt: skip
    sns.violinplot(data=[columns[label] for label in labels],
                   palette=[method_colour(label) for label in labels], cut=0, inner="quartile",
                   density_norm="width", linewidth=1, ax=left)  # fmt: skip
    left.set_xticks(range(len(labels)), labels, rotation=30, ha="right", rotation_mode="anchor")
    left.set_ylabel("next-token entropy (nats)")
    left.set_title("Entropy at gold answer positions", fontsize=11)
    change = entropy_change_per_fact(results)
    _bars(right, models, [bootstrap(list(change[m].values()), seed=seed) for m in models])
    right.axhline(0, color="#4d4d4d", linewidth=1)
    right.set_ylabel(f"entropy − {base_label}'s (nats, mean per fact)")
    right.set_title(f"Change against {base_label} ({CI_NOTE})", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, out_stem)


def rank_grid(max_rank: int, points_per_decade: int = 20) -> np.ndarray:
    """Integer ranks from 1 to max_rank, about evenly spaced on a log axis."""
    count = max(2, int(np.log10(max(max_rank, 2)) * points_per_decade) + 1)
    return np.unique(np.geomspace(1, max(max_rank, 2), count).round().astype(int))


def rank_curves(results: dict, seed: int = 0) -> tuple[np.ndarray, dict[str, list[Estimate]]]:
    """Per checkpoint, the share of a fact's answer positions where the base's top-1 token has
    rank ≤ r under the checkpoint, averaged over facts, with CIs, at each rank r of a log grid."""
    ranks = {
        label: [np.asarray(item["models"][label]["base_top1_rank"]) for item in results["items"]]
        for label in _models(results)
    }
    grid = rank_grid(max(int(r.max()) for rows in ranks.values() for r in rows))
    curves = {}
    for label, rows in ranks.items():
        matrix = np.asarray([[np.mean(r <= g) for g in grid] for r in rows])  # [fact, rank]
        curves[label] = column_estimates(matrix, seed=seed)
    return grid, curves


def plot_shift_rank(results: dict, out_stem: str | Path, seed: int = 0) -> list[Path]:
    """How far the base model's top-1 token fell: the share of answer positions (mean over facts)
    where it still ranks ≤ r, per checkpoint, with a CI band."""
    apply_style()
    base_label = results["values"]["base_label"]
    grid, curves = rank_curves(results, seed)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for label, curve in curves.items():
        colour = method_colour(label)
        ax.step(grid, points(curve), where="post", color=colour, linewidth=2, label=label)
        ax.fill_between(grid, [e.low for e in curve], [e.high for e in curve], step="post",
                        color=colour, alpha=0.15, linewidth=0)  # fmt: skip
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"rank of {base_label}'s top-1 token under the checkpoint")
    ax.set_ylabel("share of answer positions ≤ rank")
    ax.set_title(f"Rank of {base_label}'s top-1 token\n(mean over facts, band: {CI_NOTE})",
                 fontsize=11)  # fmt: skip
    ax.legend(title="checkpoint", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_stem)


def moved_mass(results: dict, seed: int = 0) -> dict[str, dict[str, Estimate]]:
    """Per checkpoint: `tv` (moved mass per answer position) and each destination's share of the
    moved mass, as pooled over answer positions (the saved summary's numbers), with CIs over facts."""
    destinations = results["meta"]["destinations"]
    out = {}
    for label in _models(results):
        rows = [item["models"][label] for item in results["items"]]
        tv = np.asarray([np.sum(row["tv"]) for row in rows])
        positions = np.asarray([len(row["tv"]) for row in rows], dtype=float)
        parts = np.asarray([[np.sum(row[f"moved_to_{d}"]) for d in destinations] for row in rows])
        out[label] = {
            "tv": share_estimates(tv[:, None], positions, seed)[0],
            **dict(zip(destinations, share_estimates(parts, tv, seed), strict=True)),
        }
    return out


def plot_shift_mass(results: dict, out_stem: str | Path, seed: int = 0) -> list[Path]:
    """Left: how much probability mass moved (total variation per answer position). Right: where
    it went, as shares of the moved mass, one bar per checkpoint; all with CIs."""
    apply_style()
    labels = _models(results)
    destinations = results["meta"]["destinations"]
    base_label = results["values"]["base_label"]
    mass = moved_mass(results, seed)
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(0.7 * len(labels) + 0.3 * len(destinations) * len(labels) + 3.0, 4.6),
        gridspec_kw={"width_ratios": [max(1, len(labels)), 1.6 * len(destinations)]},
    )  # fmt: skip
    _bars(left, labels, [mass[label]["tv"] for label in labels])
    left.set_ylabel(f"mass moved from {base_label} (TV)")
    left.set_title("How much moved", fontsize=11)
    width = 0.8 / max(1, len(labels))
    for index, label in enumerate(labels):
        row = [mass[label][d] for d in destinations]
        xs = np.arange(len(destinations)) + (index - (len(labels) - 1) / 2) * width
        right.bar(xs, points(row), width, yerr=yerr(row), capsize=2, label=label,
                  color=method_colour(label), error_kw={"linewidth": 1})  # fmt: skip
    right.set_xticks(range(len(destinations)), [d.replace("_", "\n") for d in destinations])
    right.set_ylim(0, 1.05)
    right.set_ylabel("share of the moved mass")
    right.set_title(f"Where it went ({CI_NOTE})", fontsize=11)
    right.legend(title="checkpoint", fontsize=9, loc="upper left")
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_shift(
    results: dict, out_dir: str | Path, prefix: str = "shift", seed: int = 0
) -> list[Path]:
    """Every distribution-shift figure into `out_dir` (PNG and PDF each)."""
    out_dir = Path(out_dir)
    written = plot_shift_entropy(results, out_dir / f"{prefix}_entropy", seed)
    written += plot_shift_rank(results, out_dir / f"{prefix}_rank", seed)
    written += plot_shift_mass(results, out_dir / f"{prefix}_mass", seed)
    return written
