"""Distribution-shift figures: entropy per method, rank of the vanilla top-1 token, where moved mass went."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from relearn_interp.style import apply_style, method_colour, order_methods, save_figure

DESTINATION_COLOURS = {
    "vanilla_top1": "#4d4d4d",
    "vanilla_candidates": "#66a61e",
    "eos": "#7570b3",
    "refusal": "#e6ab02",
    "malformed": "#a6761d",
    "unrelated": "#e7298a",
}


def _models(results: dict) -> list[str]:
    return order_methods(list(results["values"]["models"]))


def plot_shift_entropy(results: dict, out_stem: str | Path) -> list[Path]:
    """Distribution of next-token entropy over answer positions: the base and each unlearned model."""
    apply_style()
    base_label = results["values"]["base_label"]
    columns = {base_label: [v for item in results["items"] for v in item["base_entropy"]]}
    for label in _models(results):
        columns[label] = [
            v for item in results["items"] for v in item["models"][label]["entropy_model"]
        ]
    labels = list(columns)
    fig, ax = plt.subplots(figsize=(1.3 * len(labels) + 2.5, 4.2))
    sns.violinplot(
        data=[columns[label] for label in labels],
        palette=[method_colour(label) for label in labels],
        cut=0,
        inner="quartile",
        density_norm="width",
        linewidth=1,
        ax=ax,
    )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("next-token entropy (nats)")
    ax.set_xlabel("checkpoint")
    ax.set_title("Entropy at gold answer positions")
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_shift_rank(results: dict, out_stem: str | Path) -> list[Path]:
    """Cumulative distribution of the rank each model gives the base model's top-1 token."""
    apply_style()
    base_label = results["values"]["base_label"]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for label in _models(results):
        ranks = np.sort(
            [r for item in results["items"] for r in item["models"][label]["base_top1_rank"]]
        )
        fractions = np.arange(1, len(ranks) + 1) / len(ranks)
        ax.step(
            ranks, fractions, where="post", color=method_colour(label), linewidth=2, label=label
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"rank of {base_label}'s top-1 token under the checkpoint")
    ax.set_ylabel("fraction of answer positions ≤ rank")
    ax.set_title(f"Rank shift of {base_label}'s top-1 token")
    ax.legend(title="checkpoint")
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_shift_mass(results: dict, out_stem: str | Path) -> list[Path]:
    """Where the moved probability mass went, as fractions of the total moved (TV), per model."""
    apply_style()
    labels = _models(results)
    models = results["values"]["models"]
    destinations = results["meta"]["destinations"]
    base_label = results["values"]["base_label"]
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 4.5, 4.2))
    bottom = np.zeros(len(labels))
    for destination in destinations:
        heights = np.array([models[label]["moved_fraction"][destination] for label in labels])
        ax.bar(
            labels,
            heights,
            bottom=bottom,
            color=DESTINATION_COLOURS.get(destination),
            label=destination.replace("_", " "),
            width=0.6,
        )
        bottom += heights
    for index, label in enumerate(labels):
        ax.text(
            index,
            1.02,
            f"TV {models[label]['mean']['tv']:.2f}",
            ha="center",
            va="bottom",
            fontsize=9,
        )
        ax.get_xticklabels()[index].set_color(method_colour(label))
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("fraction of moved mass")
    ax.set_xlabel("checkpoint")
    ax.set_title(f"Where the mass moved away from {base_label}'s distribution went")
    ax.legend(title="destination", bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_shift(results: dict, out_dir: str | Path, prefix: str = "shift") -> list[Path]:
    """Every distribution-shift figure into `out_dir` (PNG and PDF each)."""
    out_dir = Path(out_dir)
    written = plot_shift_entropy(results, out_dir / f"{prefix}_entropy")
    written += plot_shift_rank(results, out_dir / f"{prefix}_rank")
    written += plot_shift_mass(results, out_dir / f"{prefix}_mass")
    return written
