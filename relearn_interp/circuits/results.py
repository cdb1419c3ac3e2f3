"""What a circuit run writes: one checkpoint's JSON values and meta (its figures: `relearn_interp.plots`)."""

from __future__ import annotations

from dataclasses import asdict

from relearn_interp.circuits import prune
from relearn_interp.circuits.diff import CheckpointCircuit
from relearn_interp.circuits.metrics import DESCRIPTIONS
from relearn_interp.circuits.pairs import PairSet
from relearn_interp.circuits.pipeline import CircuitSettings
from relearn_interp.circuits.sizing import faithfulness_estimate
from unlearn.io import hash_json, versions
from unlearn.precision import model_precision

TOP_EDGES_REPORTED = 50
AREA_RULE = (
    "MIB's evaluate_area_under_curve (log_scale=False): trapezoids over the edge fractions of the "
    "grid on a linear axis, no point at 0; CPR = area under f (higher is better, at most 0.999 on "
    "MIB's grid), CMD = area under |1 - f| (lower is better, 0 = as the full model); edges ranked "
    "by |score| for both"
)
FAITHFULNESS_RULE = (
    "(m(circuit) - m(empty)) / (m(full model) - m(empty)), metric means over the held-out pairs; "
    "m(empty) = the corrupted run, m(full) = the clean run"
)


def _top_edges(circuit: CheckpointCircuit) -> list[dict]:
    graph, scores = circuit.selection.graph, circuit.selection.scores
    subject = circuit.selection.subject_scores
    top = []
    for flat in prune.ranked(graph, scores)[:TOP_EDGES_REPORTED].tolist():
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
    return top


def _curve(circuit: CheckpointCircuit, fixed: bool) -> list[dict]:
    sizing = circuit.sizing
    points = []
    for k, fraction in enumerate(sizing["fractions"]):
        estimate = sizing["estimates"][k]
        points.append(
            {
                "fraction": fraction,
                "requested": sizing["requested"][k],
                "n_edges": sizing["n_edges"][k],
                "metric": sizing["metric"][k],
                "faithfulness": sizing["faithfulness"][k],
                "low": estimate["low"] if estimate else None,
                "high": estimate["high"] if estimate else None,
                "chosen": not fixed and sizing["chosen_row"] == k,
            }
        )
    return points


def circuit_values(circuit: CheckpointCircuit, settings: CircuitSettings) -> dict:
    """The JSON `values` of one checkpoint's circuit (held-out faithfulness, curve, CPR/CMD, edges)."""
    runs, sizing, graph = circuit.runs, circuit.sizing, circuit.selection.graph
    row = runs.circuits[sizing["chosen_row"]]
    estimate = faithfulness_estimate(row, runs.clean, runs.corrupted, settings.seed)
    choice = sizing["choice"]
    fixed = settings.sized_by != "target"
    reached = (
        choice["reached"] if not fixed else bool(estimate and estimate.value >= settings.target)
    )
    n_kept = int(circuit.keep.sum())
    return {
        "graph": {
            "n_layers": graph.n_layers,
            "n_heads": graph.n_heads,
            "n_kv_heads": graph.n_kv_heads,
            "n_upstream": graph.n_upstream,
            "n_downstream": graph.n_downstream,
            "n_edges": graph.n_edges,
        },
        "metric": {
            "name": runs.metric,
            "description": DESCRIPTIONS[runs.metric],
            "clean": float(runs.clean.mean()),
            "corrupted": float(runs.corrupted.mean()),
            "gap": float(runs.gap.mean()),
            "on": "held-out pairs",
        },
        "pairs": {
            "n_selection": len(circuit.selection.pair_ids),
            "n_heldout": len(circuit.heldout.pair_ids),
            "selection_ids": circuit.selection.pair_ids,
            "heldout_ids": circuit.heldout.pair_ids,
        },
        "circuit": {
            "selection": "threshold" if settings.threshold is not None else settings.select,
            "sized_by": settings.sized_by,
            "requested_edges": circuit.requested,
            "n_edges": n_kept,
            "fraction_of_edges": n_kept / graph.n_edges,
            "metric": float(row.mean()),
            "faithfulness": estimate.value if estimate else None,
            "faithfulness_ci": estimate.to_json() if estimate else None,
            "target": settings.target,
            "target_reached": reached,
            "best_faithfulness": choice["best_faithfulness"],
            "best_fraction": choice["best_fraction"],
            "n_writers": int(circuit.keep.any(1).sum()),  # input, heads and MLPs with a kept edge
        },
        "curve": _curve(circuit, fixed),
        "cpr": sizing["cpr"],
        "cmd": sizing["cmd"],
        "rules": {"faithfulness": FAITHFULNESS_RULE, "areas": AREA_RULE},
        "per_pair": {
            "ids": circuit.heldout.pair_ids,
            "clean": runs.clean.tolist(),
            "corrupted": runs.corrupted.tolist(),
            "circuit": row.tolist(),
        },
        "top_edges": _top_edges(circuit),
    }


def circuit_meta(ckpt: str, pairs: PairSet, settings: CircuitSettings, model, metric: str) -> dict:
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
        "metric": metric,
        "backend": {
            "scores": f"relearn_interp.circuits {method} on TransformerBridge",
            "metric": f"{metric}: {DESCRIPTIONS[metric]}",
            "pairs": pairs.corruption,
            "faithfulness": "exact patching of every non-circuit edge to its corrupted value, on "
            "held-out pairs (edges ranked on the other half, split by fact)",
        },
        "settings": asdict(settings),
        "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "device": str(next(model.parameters()).device),
        "precision": model_precision(model),
        "versions": versions(),
        "seed": settings.seed,
        "sign": "score = metric(edge corrupted) - metric(clean), first order; rank by |score|",
    }
