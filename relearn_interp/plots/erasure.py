"""Erasure figures: patching curves per block (one colour per method, 95% CI bands) and the share
of forgotten facts each probe recovers."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from relearn_interp.erasure.judge import ErasureTable
from relearn_interp.plots.style import apply_style, method_colour, order_methods, save_figure

DIRECTIONS = (
    ("restore_share", "base → checkpoint: share of the gap restored"),
    ("transfer_share", "checkpoint → base: share of the gap carried"),
)
PROBE_LABELS = {
    "lens": "lens\n(above decoys)",
    "int8": "int8",
    "int4": "int4",
    "relearn": "relearning\nattack",
    "control": "retain-only\ncontrol",
    "any": "any probe",
}


def plot_patching_curves(results: dict, out_stem: str | Path, variant: str = "slot") -> list[Path]:
    """Restore and transfer share per block, mean over facts with a gap, with 95% CI bands."""
    apply_style()
    checkpoints = results["values"]["checkpoints"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for ax, (key, title) in zip(axes, DIRECTIONS, strict=True):
        for label in order_methods(list(checkpoints)):
            curve = checkpoints[label]["curves"][variant]
            if curve[key] is None:
                continue
            mean = np.asarray(curve[key]["mean"])
            layers = np.arange(len(mean))
            colour = method_colour(label)
            ax.plot(
                layers,
                mean,
                color=colour,
                linewidth=2,
                marker="o",
                markersize=3.5,
                label=f"{label} (n={curve['n']})",
            )
            ax.fill_between(
                layers, curve[key]["low"], curve[key]["high"], color=colour, alpha=0.18, linewidth=0
            )
        ax.set_ylim(-0.03, 1.03)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("block patched (residual stream after it)")
        ax.set_title(title, fontsize=11)
    axes[0].set_ylabel("share of the gold log-prob gap")
    axes[0].legend(title="checkpoint (facts with a gap)", fontsize=9)
    fig.suptitle(
        f"Where does the forgetting live? Activation patching at the {variant} position(s)"
    )
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_recovery(erasure: ErasureTable, out_stem: str | Path) -> list[Path]:
    """Share of forgotten facts each probe recovers, per checkpoint, with 95% CIs."""
    apply_style()
    table = erasure.estimates
    labels = [label for label in order_methods(list(table)) if table[label]["forgotten"].value > 0]
    probes = [p for p in PROBE_LABELS if all(table[label].get(p) for label in labels)]
    fig, ax = plt.subplots(figsize=(2.5 + len(probes) * (0.5 + 0.32 * max(1, len(labels))), 4.4))
    width = 0.8 / max(1, len(labels))
    for k, label in enumerate(labels):
        values = [table[label][p] for p in probes]
        centres = np.arange(len(probes)) + (k - (len(labels) - 1) / 2) * width
        means = np.asarray([v.value for v in values])
        errors = np.asarray([[m - v.low, v.high - m] for m, v in zip(means, values, strict=True)]).T
        ax.bar(
            centres,
            means,
            width,
            color=method_colour(label),
            label=label,
            yerr=errors if len(values) else None,
            capsize=2.5,
            error_kw={"linewidth": 1},
        )
    ax.set_xticks(range(len(probes)), [PROBE_LABELS[p] for p in probes])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of forgotten facts recovered")
    ax.set_title("Is forgotten knowledge recoverable? (95% bootstrap CIs over facts)", fontsize=11)
    if labels:
        ax.legend(title="checkpoint", fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return save_figure(fig, out_stem)


def plot_erasure(
    results: dict, erasure: ErasureTable, out_dir: str | Path, prefix: str = "erasure"
) -> list[Path]:
    """Every erasure figure into `out_dir` (PNG and PDF each), from the results and their table
    (`relearn_interp.erasure.judge.erasure_table`)."""
    out_dir = Path(out_dir)
    variant = results["meta"]["settings"]["variants"][0]
    written = plot_patching_curves(results, out_dir / f"{prefix}_patching", variant)
    written += plot_recovery(erasure, out_dir / f"{prefix}_recovery")
    return written
