"""Compare the circuits of several checkpoints on the same prompt pairs.

Reported: the edges kept in one circuit and not in another; the score of every edge kept anywhere,
per checkpoint, and its change against the reference (the first checkpoint); and which
entity-related edges weakened or strengthened (|score| down or up by more than a relative
tolerance). An edge is entity-related when, on some checkpoint, most of its score is read at the
subject positions (|subject part| ≥ SUBJECT_SHARE of |subject part| + |rest|), or it feeds the
q/k/v input of a head whose attention from the last position onto the subject tokens is at least
SUBJECT_ATTENTION.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from jaxtyping import Bool, Float
from torch import Tensor

from relearn_interp.circuits.attribute import EdgeScores
from relearn_interp.circuits.draw import draw_circuit, figure_size, layout, legend_handles
from relearn_interp.circuits.export import circuit_graph
from relearn_interp.circuits.faithfulness import Faithfulness
from relearn_interp.circuits.graph import Graph
from relearn_interp.circuits.pairs import Batch
from relearn_interp.style import apply_style, save_figure
from unlearn.errors import UserError

SUBJECT_SHARE = 0.5
SUBJECT_ATTENTION = 0.3
CHANGE_TOLERANCE = 0.1
WEAKENED, STRENGTHENED = "#2166ac", "#b2182b"


@dataclass
class CheckpointCircuit:
    """One checkpoint's scores, kept edges, per-head attention to the subject, and faithfulness."""

    label: str
    scores: EdgeScores
    keep: Bool[Tensor, "up down"]
    subject_attention: Float[Tensor, "layer head"]
    faithfulness: Faithfulness | None = None


def subject_attention(model, batches: Sequence[Batch]) -> Float[Tensor, "layer head"]:
    """Mean attention from each prompt's last position onto its subject positions, per head."""
    n_layers, n_heads = model.cfg.n_layers, model.cfg.n_heads
    total = torch.zeros(n_layers, n_heads)
    for batch in batches:

        def hook(pattern: Tensor, hook, batch=batch) -> None:
            layer = int(hook.name.split(".")[1])
            rows = pattern[torch.arange(batch.size), :, batch.last]  # [batch, head, key]
            total[layer] += (
                (rows * batch.subject[:, None, :].to(rows.dtype)).sum((0, 2)).float().cpu()
            )

        names = [(f"blocks.{layer}.attn.hook_pattern", hook) for layer in range(n_layers)]
        with torch.no_grad(), model.hooks(fwd_hooks=names):
            model(batch.clean)
    return total / sum(batch.size for batch in batches)


def entity_edges(circuit: CheckpointCircuit) -> Bool[Tensor, "up down"]:
    """Edges mostly read at the subject positions, or into heads that attend to the subject."""
    graph, scores, subject = (
        circuit.scores.graph,
        circuit.scores.scores,
        circuit.scores.subject_scores,
    )
    mask = torch.zeros_like(graph.allowed)
    if subject is not None:
        mask |= (subject.abs() >= SUBJECT_SHARE * (subject.abs() + (scores - subject).abs())) & (
            scores != 0
        )
    heads = circuit.subject_attention >= SUBJECT_ATTENTION  # [layer, head]
    groups = heads.view(graph.n_layers, graph.n_kv_heads, graph.group_size).any(-1)
    for layer in range(graph.n_layers):
        mask[:, graph.q_cols(layer)] |= heads[layer][None, :]
        mask[:, graph.k_cols(layer)] |= groups[layer][None, :]
        mask[:, graph.v_cols(layer)] |= groups[layer][None, :]
    return mask & graph.allowed


def _names(graph: Graph, mask: Tensor, order: Tensor | None = None) -> list[str]:
    edges = torch.nonzero(mask).tolist()
    if order is not None:
        edges.sort(key=lambda e: float(order[e[0], e[1]]))
    return [graph.edge_name(up, down) for up, down in edges]


def compare(circuits: Sequence[CheckpointCircuit], tolerance: float = CHANGE_TOLERANCE) -> dict:
    """The numbers of the diff (JSON-ready); the first checkpoint is the reference."""
    if len(circuits) < 2:
        raise UserError("a circuit diff needs at least two checkpoints (--ckpt A --ckpt B)")
    graph = circuits[0].scores.graph
    for circuit in circuits[1:]:
        if circuit.scores.graph != graph:
            raise UserError(
                f"{circuit.label} has a different shape ({circuit.scores.graph}) from {circuits[0].label} ({graph})"
            )
    reference = circuits[0]
    union = torch.stack([c.keep for c in circuits]).any(0)
    entity = union & torch.stack([entity_edges(c) for c in circuits]).any(0)
    ref_abs = reference.scores.scores.abs()
    rows = []
    for up, down in torch.nonzero(union).tolist():
        scores = {c.label: float(c.scores.scores[up, down]) for c in circuits}
        rows.append(
            {
                "edge": graph.edge_name(up, down),
                "kind": graph.downstream_kinds[down],
                "entity": bool(entity[up, down]),
                "scores": scores,
                "kept": {c.label: bool(c.keep[up, down]) for c in circuits},
                "change_vs_reference": {
                    label: value - scores[reference.label] for label, value in scores.items()
                },
            }
        )
    entity_summary = {}
    for circuit in circuits[1:]:
        magnitude = circuit.scores.scores.abs()
        weakened = entity & (magnitude < (1 - tolerance) * ref_abs)
        strengthened = entity & (magnitude > (1 + tolerance) * ref_abs)
        change = magnitude - ref_abs
        entity_summary[circuit.label] = {
            "n_weakened": int(weakened.sum()),
            "n_strengthened": int(strengthened.sum()),
            "weakened": _names(graph, weakened, change),
            "strengthened": _names(graph, strengthened, -change),
            "abs_change_total": float((change * entity).sum()),
        }
    return {
        "reference": reference.label,
        "checkpoints": [c.label for c in circuits],
        "n_kept": {c.label: int(c.keep.sum()) for c in circuits},
        "only_in": {
            f"{a.label} not {b.label}": _names(graph, a.keep & ~b.keep)
            for a in circuits
            for b in circuits
            if a is not b
        },
        "entity_abs_score": {
            c.label: float((c.scores.scores.abs() * entity).sum()) for c in circuits
        },
        "entity_edges": entity_summary,
        "subject_heads": {
            c.label: [
                f"a{layer}.h{head}"
                for layer, head in torch.nonzero(c.subject_attention >= SUBJECT_ATTENTION).tolist()
            ]
            for c in circuits
        },
        "subject_attention": {c.label: c.subject_attention.tolist() for c in circuits},
        "faithfulness": {
            c.label: c.faithfulness.to_json() for c in circuits if c.faithfulness is not None
        },
        "edges": rows,
        "settings": {
            "subject_share": SUBJECT_SHARE,
            "subject_attention": SUBJECT_ATTENTION,
            "tolerance": tolerance,
        },
    }


def _change_colour(kind: str, score: float) -> str:
    return STRENGTHENED if score > 0 else WEAKENED


def draw_diff(
    circuits: Sequence[CheckpointCircuit], out_stem: str | Path, title: str = ""
) -> list[Path]:
    """One figure, one shared layout: each checkpoint's circuit (top) and entity-edge changes (bottom)."""
    apply_style()
    graph = circuits[0].scores.graph
    pos = layout(graph.n_layers, graph.n_heads, graph.n_kv_heads)
    width, height = figure_size(graph.n_layers, graph.n_heads, panels=len(circuits))
    fig, axes = plt.subplots(2, len(circuits), figsize=(width, 2 * height), squeeze=False)
    scale = max(float((c.scores.scores.abs() * c.keep).max()) for c in circuits) or 1.0
    reference = circuits[0]
    union = torch.stack([c.keep for c in circuits]).any(0)
    entity = union & torch.stack([entity_edges(c) for c in circuits]).any(0)
    for column, circuit in enumerate(circuits):
        draw_circuit(
            axes[0, column],
            circuit_graph(circuit.scores, circuit.keep),
            pos,
            max_abs=scale,
            title=f"{circuit.label} ({int(circuit.keep.sum())} edges)",
        )
        if column == 0:
            axes[1, 0].axis("off")
            axes[1, 0].text(
                0.5,
                0.5,
                f"entity-related edges:\n|score| change vs {reference.label}\n"
                "blue = weakened, red = strengthened",
                ha="center",
                va="center",
                fontsize=9,
            )
            continue
        change = circuit.scores.scores.abs() - reference.scores.scores.abs()
        delta = EdgeScores(graph, torch.where(entity, change, 0.0))
        draw_circuit(
            axes[1, column],
            circuit_graph(delta, entity & (change != 0)),
            pos,
            max_abs=float(change.abs().max()) or 1.0,
            title=f"{circuit.label} − {reference.label}",
            colours=_change_colour,
        )
    fig.legend(
        handles=legend_handles(),
        loc="lower center",
        ncol=5,
        fontsize=7,
        bbox_to_anchor=(0.5, -0.01),
    )
    if title:
        fig.suptitle(title)
    return save_figure(fig, out_stem)
