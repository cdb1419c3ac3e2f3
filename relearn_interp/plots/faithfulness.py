"""The faithfulness figure of circuit runs: held-out normalised faithfulness against the share of
edges kept, one line per checkpoint with its 95% CI band, the chosen circuit starred."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from relearn_interp.plots.style import apply_style, method_colour, save_figure


def draw_curve(results: dict[str, dict], out_stem: str | Path) -> list[Path]:
    """Held-out normalised faithfulness against the fraction of edges kept, one line per checkpoint."""
    apply_style()
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    target = None
    for label, values in results.items():
        points = [p for p in values["curve"] if p["faithfulness"] is not None]
        if not points:
            continue
        x = np.array([100 * p["fraction"] for p in points])
        y = np.array([p["faithfulness"] for p in points])
        low = np.array([p["low"] if p["low"] is not None else p["faithfulness"] for p in points])
        high = np.array([p["high"] if p["high"] is not None else p["faithfulness"] for p in points])
        cpr = values.get("cpr") or {}
        name = f"{label} (CPR {cpr['value']:.2f})" if cpr else label
        colour = method_colour(label)
        ax.plot(x, y, marker="o", markersize=3, label=name, color=colour)
        ax.fill_between(x, low, high, color=colour, alpha=0.12, lw=0)
        chosen = [p for p in points if p["chosen"]]
        if chosen:
            ax.plot(
                100 * chosen[0]["fraction"], chosen[0]["faithfulness"], "*", ms=11, color=colour
            )
        target = values["circuit"]["target"]
    ax.set_xscale("log")
    ax.axhline(1.0, color="#888888", lw=0.8, ls="--")
    ax.axhline(0.0, color="#888888", lw=0.6)
    if target is not None:
        ax.axhline(target, color="#d95f02", lw=0.8, ls=":", label=f"target {target:g}")
    ax.set_xlabel("edges kept (% of all edges, top-n by |score| on the selection pairs)")
    ax.set_ylabel("normalised faithfulness (held-out pairs)")
    ax.set_title("★ = circuit chosen: smallest size reaching the target", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, out_stem)
