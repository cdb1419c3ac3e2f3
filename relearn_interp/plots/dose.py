"""The dose figure: forget recall as each method trains, against the forget target."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from relearn_interp.plots.style import apply_style, method_colour, order_methods, save_figure


def plot_dose(cards: dict[str, dict], out_stem: str | Path) -> list[Path]:
    """Forget recall at each check vs examples seen, one line per method; the kept step is
    marked with a filled circle (an open one when the target was not reached)."""
    apply_style()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    target = None
    for label in order_methods(list(cards)):
        stop = cards[label].get("forget_target")
        if not stop:
            continue
        target = stop["recall_at_most"]
        trace = stop["trace"]
        xs = [check["examples"] for check in trace]
        ys = [check["recall"] for check in trace]
        colour = method_colour(label)
        ax.plot(xs, ys, color=colour, marker=".", label=label)
        kept = next(c for c in trace if c["step"] == stop["kept_step"])
        ax.plot(
            kept["examples"],
            kept["recall"],
            "o",
            markersize=9,
            color=colour,
            markerfacecolor=colour if stop["reached"] else "white",
        )
    if target is not None:
        ax.axhline(target, color="#4d4d4d", linestyle="--", linewidth=1)
        ax.annotate(f"target ≤ {target:g}", (0.99, target), xycoords=("axes fraction", "data"),
                    ha="right", va="bottom", fontsize=9)  # fmt: skip
    ax.set_xlabel("forget-side examples seen")
    ax.set_ylabel("forget recall (greedy, matcher)")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title("Dose: each method trained to the forget target")
    ax.legend(loc="upper right", fontsize=9)
    return save_figure(fig, out_stem)
