"""Draw a circuit: layers on the y axis, heads and the MLP of each layer along x.

Edge width grows with |score|; edge colour gives the kind (q, k, v, mlp, logits) and, by shade,
the sign (dark = negative, light = positive; with the noising convention and the logit-difference
metric, dark edges are the ones the model needs). Attention input ports sit just below their head
(q per query head, k and v per key/value head). The layout depends only on the model's shape, so
panels of several checkpoints share it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import seaborn as sns
from matplotlib.lines import Line2D

from relearn_interp.plots.style import apply_style, save_figure

_PAIRED = sns.color_palette("Paired", 12).as_hex()
# kind -> (positive shade, negative shade)
EDGE_COLOURS = {
    "q": (_PAIRED[0], _PAIRED[1]),
    "k": (_PAIRED[2], _PAIRED[3]),
    "v": (_PAIRED[6], _PAIRED[7]),
    "mlp": (_PAIRED[8], _PAIRED[9]),
    "logits": (_PAIRED[4], _PAIRED[5]),
}
NODE_COLOURS = {"input": "#f0f0f0", "head": "#d9d9d9", "mlp": "#bdbdbd", "logits": "#f0f0f0"}
PORT_COLOURS = {"q": _PAIRED[1], "k": _PAIRED[3], "v": _PAIRED[7]}
MAX_WIDTH = 4.0
# Curved arrows are one patch each: past this many edges, straight lines (edges run upwards anyway)
MAX_ARROWS = 600
ARROWS = {"arrows": True, "arrowsize": 6, "connectionstyle": "arc3,rad=0.08", "node_size": 60}


def layout(n_layers: int, n_heads: int, n_kv_heads: int) -> dict[str, tuple[float, float]]:
    """Positions of every possible node: layer l's heads at y = 2l + 1, its MLP at y = 2l + 2."""
    group = n_heads // n_kv_heads
    centre = (n_heads - 1) / 2
    pos = {"input": (centre, 0.0), "logits": (centre, 2.0 * n_layers + 1)}
    for layer in range(n_layers):
        y = 2.0 * layer + 1
        for head in range(n_heads):
            pos[f"a{layer}.h{head}"] = (float(head), y)
            pos[f"a{layer}.h{head}<q>"] = (head - 0.25, y - 0.35)
        for kv in range(n_kv_heads):
            x = kv * group + (group - 1) / 2
            pos[f"a{layer}.kv{kv}<k>"] = (x, y - 0.6)
            pos[f"a{layer}.kv{kv}<v>"] = (x + 0.25, y - 0.6)
        pos[f"m{layer}"] = (n_heads + 0.5, y + 1)
    return pos


def edge_colour(kind: str, score: float) -> str:
    positive, negative = EDGE_COLOURS[kind]
    return positive if score > 0 else negative


def draw_circuit(
    ax: plt.Axes,
    circuit: nx.DiGraph,
    pos: dict[str, tuple[float, float]],
    max_abs: float | None = None,
    title: str | None = None,
    colours: Callable[[str, float], str] = edge_colour,
) -> None:
    """Draw one circuit on `ax` with a given layout; `max_abs` fixes the width scale across panels."""
    scored = [(u, v, d) for u, v, d in circuit.edges(data=True) if d["kind"] != "port"]
    ports = [(u, v) for u, v, d in circuit.edges(data=True) if d["kind"] == "port"]
    scale = max_abs or max((d["abs_score"] for *_, d in scored), default=1.0) or 1.0
    nx.draw_networkx_edges(
        circuit, pos, edgelist=ports, ax=ax, edge_color="#999999", width=0.5, arrows=False
    )
    scored.sort(key=lambda edge: edge[2]["abs_score"])  # strongest drawn last, on top
    if scored:
        nx.draw_networkx_edges(
            circuit,
            pos,
            edgelist=[(u, v) for u, v, _ in scored],
            ax=ax,
            width=[0.3 + MAX_WIDTH * d["abs_score"] / scale for *_, d in scored],
            edge_color=[colours(d["kind"], d["score"]) for *_, d in scored],
            alpha=0.85,
            **(ARROWS if len(scored) <= MAX_ARROWS else {"arrows": False}),
        )
    kinds = nx.get_node_attributes(circuit, "kind")
    for kind, shape, size in (
        ("input", "s", 140),
        ("logits", "s", 140),
        ("head", "o", 110),
        ("mlp", "s", 110),
    ):
        nodes = [n for n, k in kinds.items() if k == kind]
        nx.draw_networkx_nodes(
            circuit,
            pos,
            nodelist=nodes,
            ax=ax,
            node_color=NODE_COLOURS[kind],
            node_shape=shape,
            node_size=size,
            edgecolors="#444444",
            linewidths=0.6,
        )
    for kind, colour in PORT_COLOURS.items():
        nodes = [n for n, k in kinds.items() if k == kind]
        nx.draw_networkx_nodes(circuit, pos, nodelist=nodes, ax=ax, node_color=colour, node_size=12)
    labels = {n: n for n, k in kinds.items() if k in ("input", "logits", "mlp", "head")}
    nx.draw_networkx_labels(circuit, pos, labels=labels, ax=ax, font_size=6)
    xs, ys = [x for x, _ in pos.values()], [y for _, y in pos.values()]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    n_layers = int(max(ys) // 2)
    ax.set_yticks(
        [2 * layer + 1 for layer in range(n_layers)],
        [f"layer {layer}" for layer in range(n_layers)],
    )
    ax.tick_params(axis="y", length=0, labelsize=7, left=False, labelleft=True)
    ax.set_xticks([])
    ax.grid(False)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)


def legend_handles() -> list[Line2D]:
    """Kind × sign, ordered so a two-row legend pairs the shades of each kind in one column."""
    return [
        Line2D([], [], color=EDGE_COLOURS[kind][shade], lw=2, label=f"{kind} ({sign})")
        for kind in EDGE_COLOURS
        for shade, sign in ((1, "negative"), (0, "positive"))
    ]


def figure_size(n_layers: int, n_heads: int, panels: int = 1) -> tuple[float, float]:
    return (min(4.0 + 0.45 * (n_heads + 2), 16.0) * panels, min(3.0 + 0.55 * n_layers * 2, 24.0))


def draw(circuit: nx.DiGraph, out_stem: str | Path, title: str = "") -> list[Path]:
    """Draw one circuit and save it as PNG and PDF."""
    apply_style()
    shape = circuit.graph
    pos = layout(shape["n_layers"], shape["n_heads"], shape["n_kv_heads"])
    fig, ax = plt.subplots(figsize=figure_size(shape["n_layers"], shape["n_heads"]))
    draw_circuit(ax, circuit, pos, title=title)
    fig.legend(
        handles=legend_handles(),
        loc="lower center",
        ncol=5,
        fontsize=7,
        bbox_to_anchor=(0.5, -0.02),
    )
    return save_figure(fig, out_stem)
