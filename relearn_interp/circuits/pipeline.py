"""The circuit job shared by `relearn-interp circuit` and `circuit-diff`: pairs → scores → circuit → faithfulness."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import DEFAULT_IG_STEPS, attribute
from relearn_interp.circuits.diff import CheckpointCircuit, subject_attention
from relearn_interp.circuits.faithfulness import Faithfulness, curve_sizes, evaluate_circuits
from relearn_interp.circuits.pairs import PairSet, csv_pairs, entity_pairs, make_batches, pad_id
from relearn_interp.style import apply_style, save_figure
from unlearn.errors import UserError
from unlearn.io import hash_json, versions

TOP_EDGES_REPORTED = 50


@dataclass(frozen=True)
class CircuitSettings:
    """How edges are scored and the circuit chosen."""

    method: str = "eap-ig"
    metric: str = "logit_diff"
    ig_steps: int = DEFAULT_IG_STEPS
    select: str = "top-n"
    edges: int = 100
    threshold: float | None = None
    curve_points: int = 12
    batch_size: int = 8
    layers_per_chunk: int | None = None
    positions_per_chunk: int | None = None
    seed: int = 0


def build_pairs(
    tokenizer, entity: str | None, data: str | None, pairs_csv: str | None, seed: int
) -> PairSet:
    """Pairs of one entity's facts (with --data) or of a user CSV."""
    if pairs_csv:
        if entity:
            raise UserError("give either --entity (with --data) or --pairs, not both")
        return csv_pairs(tokenizer, pairs_csv)
    if not entity or not data:
        raise UserError("give --entity NAME with --data ours:DIR, or --pairs FILE.csv")
    from unlearn.data.loaders import load_data

    return entity_pairs(tokenizer, load_data(data), entity, seed=seed)


def find_circuit(
    model,
    label: str,
    pairs: PairSet,
    settings: CircuitSettings,
    progress: bool = True,
) -> CheckpointCircuit:
    """Scores, the chosen circuit, its faithfulness and curve, and the heads' attention to the subject.

    Faithfulness index 0 is the chosen circuit, then the top-n curve of `curve_sizes`.
    """
    device = next(model.parameters()).device
    batches = make_batches(pairs.pairs, settings.batch_size, pad_id(model.tokenizer), device)
    scores = attribute(
        model,
        batches,
        method=settings.method,
        metric=settings.metric,
        ig_steps=settings.ig_steps,
        layers_per_chunk=settings.layers_per_chunk,
        positions_per_chunk=settings.positions_per_chunk,
        progress=progress,
    )
    graph = scores.graph
    keep = prune.select(
        graph, scores.scores, settings.select, n=settings.edges, tau=settings.threshold
    )
    curve = curve_sizes(graph.n_edges, settings.curve_points)
    masks = [keep, *(prune.top_n(graph, scores.scores, n) for n in curve)]
    faithfulness = evaluate_circuits(
        model, batches, masks, metric=settings.metric, progress=progress
    )
    attention = subject_attention(model, batches)
    return CheckpointCircuit(label, scores, keep, attention, faithfulness)


def circuit_values(circuit: CheckpointCircuit, settings: CircuitSettings) -> dict:
    """The JSON `values` of one circuit: metrics, faithfulness, the curve and the strongest edges."""
    faith: Faithfulness = circuit.faithfulness
    graph, scores = circuit.scores.graph, circuit.scores.scores
    kept = faith.circuit[0]
    order = prune.ranked(graph, scores)[:TOP_EDGES_REPORTED]
    subject = circuit.scores.subject_scores
    top = []
    for flat in order.tolist():
        up, down = divmod(flat, graph.n_downstream)
        top.append(
            {
                "edge": graph.edge_name(up, down),
                "kind": graph.downstream_kinds[down],
                "score": float(scores[up, down]),
                "kept": bool(circuit.keep[up, down]),
                "subject_score": float(subject[up, down]) if subject is not None else None,
            }
        )
    curve = faith.to_json()["curve"][1:]
    requested = curve_sizes(graph.n_edges, settings.curve_points)
    for point, n in zip(curve, requested, strict=True):
        point["requested"] = n
    return {
        "graph": {
            "n_layers": graph.n_layers,
            "n_heads": graph.n_heads,
            "n_kv_heads": graph.n_kv_heads,
            "n_upstream": graph.n_upstream,
            "n_downstream": graph.n_downstream,
            "n_edges": graph.n_edges,
        },
        "metric": {"name": settings.metric, "clean": faith.full, "corrupted": faith.corrupted},
        "circuit": {
            "selection": settings.select,
            "n_edges": int(circuit.keep.sum()),
            "metric": kept,
            "faithfulness": faith.ratio(kept),
            "recovered": faith.recovered(kept),
            "n_writers": int(circuit.keep.any(1).sum()),  # input, heads and MLPs with a kept edge
        },
        "curve": curve,
        "top_edges": top,
        "subject_attention": circuit.subject_attention.tolist(),
    }


def circuit_meta(ckpt: str, pairs: PairSet, settings: CircuitSettings, model) -> dict:
    method = (
        f"{settings.method} (k={settings.ig_steps})"
        if settings.method == "eap-ig"
        else settings.method
    )
    return {
        "model": str(ckpt),
        "data_hash": hash_json(pairs.to_json()),
        "pairs_source": pairs.source,
        "n_pairs": len(pairs.pairs),
        "skipped": {k: len(v) for k, v in pairs.skipped.items()},
        "backend": {
            "scores": f"relearn_interp.circuits {method} on TransformerBridge",
            "faithfulness": "exact patching of every non-circuit edge to its corrupted value",
        },
        "settings": asdict(settings),
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "device": str(next(model.parameters()).device),
        "versions": versions(),
        "seed": settings.seed,
        "sign": "score = metric(edge corrupted) - metric(clean), first order; rank by |score|",
    }


def draw_curve(results: dict[str, dict], out_stem: str | Path) -> list[Path]:
    """Faithfulness (circuit metric / full-model metric) against the number of edges kept, per checkpoint.

    With the KL metric the full model's value is 0, so the recovered fraction is drawn instead.
    """
    from relearn_interp.style import method_colour

    apply_style()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    key = "faithfulness"
    if any(p["faithfulness"] is None for values in results.values() for p in values["curve"]):
        key = "recovered"
    for label, values in results.items():
        points = [p for p in values["curve"] if p[key] is not None]
        ax.plot(
            [max(p["n_edges"], 0.8) for p in points],
            [p[key] for p in points],
            marker="o",
            markersize=3,
            label=label,
            color=method_colour(label),
        )
    ax.set_xscale("log")
    ax.axhline(1.0, color="#888888", lw=0.8, ls="--")
    ax.set_xlabel("edges kept (top-n by |score|, dead nodes removed)")
    ax.set_ylabel(
        "circuit / full model" if key == "faithfulness" else "recovered fraction of the gap"
    )
    ax.legend()
    return save_figure(fig, out_stem)


def model_device(args) -> tuple[torch.dtype, str]:
    """dtype and device from --dtype/--device (default: cuda when available)."""
    from unlearn.models import default_device

    return getattr(torch, args.dtype), args.device or str(default_device())
