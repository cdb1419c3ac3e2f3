"""Logit-lens figures: layer curves (gold probability, gold rank, related mass) and a layer × position heatmap."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from relearn_interp.style import apply_style, method_colour, order_methods, save_figure
from unlearn.errors import UserError

LAYER_PANELS = (
    ("target_prob", "gold-token probability", "linear"),
    ("target_rank_median", "gold-token rank (median)", "log"),
    ("related_mass", "mass on subject-related tokens", "linear"),
)


def short_token(text: str, width: int = 7) -> str:
    """A token for a figure: visible whitespace, cut to `width` characters."""
    text = text.replace("\n", "\\n").replace(" ", "␣")
    return text if len(text) <= width else text[: width - 1] + "…"


def plot_lens_layers(results: dict, out_stem: str | Path) -> list[Path]:
    """Layer vs gold probability, gold rank (log) and related-token mass, one line per checkpoint."""
    apply_style()
    sites = results["values"]["sites"]
    xs = [site["x"] for site in sites]
    checkpoints = results["values"]["checkpoints"]
    fig, axes = plt.subplots(
        1, len(LAYER_PANELS), figsize=(5.2 * len(LAYER_PANELS), 4.2), sharex=True
    )
    for ax, (field, ylabel, scale) in zip(axes, LAYER_PANELS, strict=True):
        for label in order_methods(list(checkpoints)):
            values = [np.nan if v is None else v for v in checkpoints[label]["per_site"][field]]
            ax.plot(
                xs,
                values,
                marker="o",
                markersize=3.5,
                linewidth=2,
                color=method_colour(label),
                label=label,
            )
        ax.set_yscale(scale)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer (residual stream after block)")
        ax.set_ylabel(ylabel)
    axes[0].legend(title="checkpoint")
    n = results["meta"].get("n_prompts", "?")
    fig.suptitle(f"Logit lens over {n} prompts: does the gold answer survive across layers?")
    fig.tight_layout()
    return save_figure(fig, out_stem)


def _grid_item(results: dict, item_id: str | None) -> dict:
    items = [
        item
        for item in results["items"]
        if all("grid_gold_prob" in c for c in item["checkpoints"].values())
    ]
    if item_id is not None:
        items = [item for item in items if item["id"] == item_id]
    if not items:
        where = f"item {item_id}" if item_id else "any item"
        raise UserError(
            f"the logit-lens results hold no per-position grid for {where}; rerun with a larger --heatmap-items"
        )
    return items[0]


def plot_lens_heatmap(
    results: dict, out_stem: str | Path, item_id: str | None = None
) -> list[Path]:
    """Layers × answer positions for one prompt: colour = gold-token probability, text = top decoded token."""
    apply_style()
    item = _grid_item(results, item_id)
    sites = results["values"]["sites"]
    labels = order_methods(list(item["checkpoints"]))
    n_pos, n_sites = len(item["answer_tokens"]), len(sites)
    fig, axes = plt.subplots(
        1,
        len(labels),
        figsize=(0.62 * n_pos * len(labels) + 2.5, 0.32 * n_sites + 2.2),
        squeeze=False,
        sharey=True,
    )
    image = None
    for ax, label in zip(axes[0], labels, strict=True):
        record = item["checkpoints"][label]
        gold = np.asarray(record["grid_gold_prob"])
        image = ax.imshow(gold, origin="lower", aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
        for s in range(n_sites):
            for p in range(n_pos):
                colour = "black" if gold[s, p] > 0.6 else "white"
                ax.text(
                    p,
                    s,
                    short_token(record["grid_top_token"][s][p]),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color=colour,
                )
        ax.set_xticks(
            range(n_pos),
            [short_token(t, 10) for t in item["answer_tokens"]],
            rotation=60,
            ha="right",
        )
        ax.set_title(label, color=method_colour(label))
        ax.set_xlabel("gold next token (teacher forced)")
        ax.grid(False)
    axes[0][0].set_yticks(range(n_sites), [site["label"] for site in sites])
    axes[0][0].set_ylabel("layer")
    fig.colorbar(image, ax=axes[0].tolist(), label="gold-token probability", shrink=0.8)
    fig.suptitle(
        f"Logit lens of “{item['question']}” (cell text: top decoded token)", fontsize=11, y=1.04
    )
    return save_figure(fig, out_stem)


def plot_logit_lens(results: dict, out_dir: str | Path, prefix: str = "logit_lens") -> list[Path]:
    """Every logit-lens figure into `out_dir` (PNG and PDF each)."""
    out_dir = Path(out_dir)
    written = plot_lens_layers(results, out_dir / f"{prefix}_layers")
    written += plot_lens_heatmap(results, out_dir / f"{prefix}_heatmap")
    return written
