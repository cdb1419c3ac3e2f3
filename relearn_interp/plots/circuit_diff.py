"""Figures of a circuit diff: a readable summary (PNG + PDF) and every whole circuit (PDF only).

The summary has one panel per compared checkpoint: the edges of the reference circuit whose mean
normalised |score| changed most, each a dumbbell from the reference's value (grey) to this
checkpoint's (blue when it weakened, red when it strengthened, beyond the tolerance; black
otherwise), entity-related edges marked with ●. Panels sit three to a row so the PNG stays under
4,000 pixels at 200 dpi with 9-point labels. The whole circuits are drawn in one shared layout
into a PDF, where they can be zoomed; GraphML files hold them too.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from relearn_interp.circuits.diff import CheckpointCircuit
from relearn_interp.circuits.export import circuit_graph
from relearn_interp.plots.circuit import draw_circuit, figure_size, layout, legend_handles
from relearn_interp.plots.style import apply_style, save_figure

WEAKENED, STRENGTHENED, UNCHANGED, REFERENCE = "#2166ac", "#b2182b", "#222222", "#9e9e9e"
PANELS_PER_ROW = 3
ROW_HEIGHT = 0.24  # inches per edge
LABEL_SIZE = 9


def _colour(row: dict, tolerance: float) -> str:
    if row["this"] < (1 - tolerance) * row["reference"]:
        return WEAKENED
    if row["this"] > (1 + tolerance) * row["reference"]:
        return STRENGTHENED
    return UNCHANGED


def _panel(ax: plt.Axes, label: str, rows: list[dict], diff: dict) -> None:
    tolerance = diff["settings"]["tolerance"]
    rows = rows[::-1]  # largest change on top
    for y, row in enumerate(rows):
        colour = _colour(row, tolerance)
        ax.plot([row["reference"], row["this"]], [y, y], color=colour, lw=1.6, alpha=0.8)
        ax.plot(row["reference"], y, "o", color=REFERENCE, ms=5)
        ax.plot(row["this"], y, "o", color=colour, ms=5)
    names = [("● " if row["entity"] else "") + row["edge"].replace("->", " → ") for row in rows]
    ax.set_yticks(range(len(rows)), names, fontsize=LABEL_SIZE)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.tick_params(axis="x", labelsize=LABEL_SIZE)
    ax.set_xlabel(f"mean normalised |score| ({diff['reference']} grey)", fontsize=LABEL_SIZE)
    overlap = diff["rank_overlap"].get(label, {})
    entity = diff["entity_edges"].get(label, {})
    jaccard, rho = overlap.get("jaccard_top_n"), overlap.get("spearman_reference_circuit")
    ax.set_title(
        f"{label} vs {diff['reference']}\n"
        f"Jaccard {jaccard:.2f}, Spearman {rho:.2f}; entity edges "
        f"{entity.get('n_weakened', 0)}↓ {entity.get('n_strengthened', 0)}↑"
        if jaccard is not None and rho is not None
        else f"{label} vs {diff['reference']}",
        fontsize=LABEL_SIZE + 1,
    )


def draw_changes(diff: dict, out_stem: str | Path, title: str = "") -> list[Path]:
    """PNG + PDF: per compared checkpoint, the reference-circuit edges that changed most."""
    apply_style()
    labels = [label for label in diff["checkpoints"] if label in diff["changed_most"]]
    if not labels:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, f"no checkpoint could be compared: {diff['not_compared']}", ha="center")
        return save_figure(fig, out_stem)
    n_rows = max(len(diff["changed_most"][label]) for label in labels)
    columns = min(PANELS_PER_ROW, len(labels))
    lines = math.ceil(len(labels) / columns)
    height = (1.4 + ROW_HEIGHT * n_rows) * lines + 0.6
    fig, axes = plt.subplots(lines, columns, figsize=(5.6 * columns, height), squeeze=False)
    for index, label in enumerate(labels):
        _panel(axes[index // columns, index % columns], label, diff["changed_most"][label], diff)
    for index in range(len(labels), lines * columns):
        axes[index // columns, index % columns].axis("off")
    heading = (
        f"{title}: " if title else ""
    ) + "edges of the reference circuit whose normalised |score| changed most (held-out pairs)"
    fig.suptitle(
        heading + "\nblue = weakened, red = strengthened (beyond ±"
        f"{diff['settings']['tolerance']:.0%}), ● = entity-related",
        fontsize=LABEL_SIZE + 2,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / height))  # room for the two-line heading
    return save_figure(fig, out_stem)


def draw_whole(circuits: Sequence[CheckpointCircuit], path: str | Path, title: str = "") -> Path:
    """PDF only: every checkpoint's whole circuit, side by side in one shared layout."""
    apply_style()
    graph = circuits[0].selection.graph
    pos = layout(graph.n_layers, graph.n_heads, graph.n_kv_heads)
    width, height = figure_size(graph.n_layers, graph.n_heads, panels=len(circuits))
    fig, axes = plt.subplots(1, len(circuits), figsize=(width, height), squeeze=False)
    scale = max(float((c.selection.scores.abs() * c.keep).max()) for c in circuits) or 1.0
    for column, circuit in enumerate(circuits):
        draw_circuit(
            axes[0, column],
            circuit_graph(circuit.selection, circuit.keep),
            pos,
            max_abs=scale,
            title=f"{circuit.label} ({int(circuit.keep.sum())} edges)",
        )
    fig.legend(handles=legend_handles(), loc="lower center", ncol=5, fontsize=7)
    if title:
        fig.suptitle(title)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.pdf")
    fig.savefig(tmp, metadata={"CreationDate": None})
    os.replace(tmp, path)
    plt.close(fig)
    return path
