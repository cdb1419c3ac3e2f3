"""Logit-lens figures: layer curves (gold probability, gold rank, related mass) with 95% CI bands
over facts, and the cross-layer decoding figure of one prompt (`relearn_interp.plots.lens_grid`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from relearn_interp.plots.intervals import column_estimates
from relearn_interp.plots.lens_grid import plot_lens_heatmap, short_token
from relearn_interp.plots.style import apply_style, method_colour, order_methods, save_figure
from relearn_interp.statistics import Estimate

__all__ = ["plot_lens_heatmap", "plot_lens_layers", "plot_logit_lens", "short_token", "site_bands"]

LAYER_PANELS = (
    ("target_prob", "gold-token probability (mean)", "linear"),
    ("target_rank", "gold-token rank (median)", "log"),
    ("related_mass", "mass on subject-related tokens (mean)", "linear"),
)


def _median(columns: np.ndarray) -> np.ndarray:
    return np.median(columns, axis=-1)


def site_bands(results: dict, label: str, field: str, seed: int = 0) -> list[Estimate] | None:
    """Per-site statistic of one checkpoint over the prompts (facts), with 95% CIs: the median
    for ranks, the mean otherwise; prompts without a value (no related tokens) are left out."""
    rows = [item["checkpoints"][label][field] for item in results["items"]]
    rows = [row for row in rows if row is not None and None not in row]
    if not rows:
        return None
    matrix = np.asarray(rows, dtype=float)  # [fact, site]
    return column_estimates(matrix, _median if field == "target_rank" else None, seed)


def plot_lens_layers(results: dict, out_stem: str | Path, seed: int = 0) -> list[Path]:
    """Layer vs gold probability, gold rank (log) and related-token mass, one line per checkpoint
    with its 95% bootstrap CI band over facts."""
    apply_style()
    xs = [site["x"] for site in results["values"]["sites"]]
    checkpoints = order_methods(list(results["values"]["checkpoints"]))
    fig, axes = plt.subplots(
        1, len(LAYER_PANELS), figsize=(5.2 * len(LAYER_PANELS), 4.3), sharex=True
    )
    for ax, (field, ylabel, scale) in zip(axes, LAYER_PANELS, strict=True):
        for label in checkpoints:
            bands = site_bands(results, label, field, seed)
            if bands is None:
                continue
            colour = method_colour(label)
            ax.plot(xs, [e.value for e in bands], marker="o", markersize=3.5, linewidth=2,
                    color=colour, label=label)  # fmt: skip
            ax.fill_between(xs, [e.low for e in bands], [e.high for e in bands], color=colour,
                            alpha=0.15, linewidth=0)  # fmt: skip
        ax.set_yscale(scale)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer (residual stream after block)")
        ax.set_ylabel(ylabel)
    axes[0].legend(title="checkpoint", fontsize=9)
    n = results["meta"].get("n_prompts", "?")
    fig.suptitle(
        f"Logit lens over {n} prompts: does the gold answer survive across layers? "
        "(bands: 95% bootstrap CI over facts)"
    )
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_logit_lens(
    results: dict,
    out_dir: str | Path,
    prefix: str = "logit_lens",
    item_id: str | None = None,
    full_heatmap: bool = False,
    seed: int = 0,
) -> list[Path]:
    """Every logit-lens figure into `out_dir`: the layer curves and the cross-layer decoding of
    one prompt (PNG and PDF each), plus with `full_heatmap` every layer and position (PDF)."""
    out_dir = Path(out_dir)
    written = plot_lens_layers(results, out_dir / f"{prefix}_layers", seed)
    written += plot_lens_heatmap(results, out_dir / f"{prefix}_heatmap", item_id)
    if full_heatmap:
        written += plot_lens_heatmap(results, out_dir / f"{prefix}_heatmap_full", item_id, True)
    return written
