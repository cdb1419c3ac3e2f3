"""Find the knowledge circuit of one entity (or of CSV prompt pairs) with EAP-IG, prune it, test its faithfulness.

Writes into --out (a folder replaced as a whole with --overwrite): circuit.json (meta and values:
metrics, faithfulness, curve, strongest edges), pairs.json, scores.npz (every edge's score),
graph.json (node-link) and graph.graphml, and the figures circuit and faithfulness (PNG and PDF).

Example: relearn-interp circuit --entity "Nia Hym" --ckpt ckpt/vanilla --data ours:bench --out results/interp/circuit-nia
"""

from __future__ import annotations

import argparse

METHODS = ("eap-ig", "eap")
METRICS = ("logit_diff", "prob_diff", "kl")
SELECTIONS = ("top-n", "threshold", "greedy")
DTYPES = ("float32", "bfloat16", "float16")


def add_circuit_arguments(parser: argparse.ArgumentParser) -> None:
    """Pairs, scoring, selection and run options shared with circuit-diff."""
    parser.add_argument(
        "--entity", help="the author whose facts give the clean prompts (with --data)"
    )
    parser.add_argument("--data", help="ours:DIR[#split] or ours:FILE holding the fact triples")
    parser.add_argument(
        "--pairs",
        help="CSV with columns clean, corrupted, gold, corrupted_gold (instead of --entity)",
    )
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--method", choices=METHODS, default="eap-ig", help="edge attribution method"
    )
    parser.add_argument(
        "--ig-steps",
        type=int,
        default=5,
        help="EAP-IG interpolation steps (corrupted → clean embeddings)",
    )
    parser.add_argument(
        "--metric",
        choices=METRICS,
        default="logit_diff",
        help="gold − corrupted-gold logit or probability at the last position, or KL to the clean run",
    )
    parser.add_argument(
        "--select",
        choices=SELECTIONS,
        default="top-n",
        help="how the circuit is chosen from the scores",
    )
    parser.add_argument(
        "--edges", type=int, default=100, help="edges kept by top-n or greedy selection"
    )
    parser.add_argument("--threshold", type=float, help="|score| threshold for --select threshold")
    parser.add_argument(
        "--curve-points", type=int, default=12, help="circuit sizes on the faithfulness curve"
    )
    parser.add_argument("--batch-size", type=int, default=8, help="prompt pairs per forward pass")
    parser.add_argument(
        "--layers-per-chunk",
        type=int,
        help="keep activation differences for this many upstream layers at a time (saves memory, reruns passes)",
    )
    parser.add_argument(
        "--positions-per-chunk",
        type=int,
        help="keep activation differences for this many positions at a time (saves memory, reruns passes)",
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float32",
        help="weights and activations (bfloat16 on GPU)",
    )
    parser.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the choice of corrupting authors"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ckpt", required=True, help="checkpoint folder, adapter folder, preset or hub id"
    )
    add_circuit_arguments(parser)


def settings_from(args: argparse.Namespace):
    """CircuitSettings from the command line, with the numbers checked."""
    from relearn_interp.circuits.pipeline import CircuitSettings
    from unlearn.errors import UserError

    for flag, value in (
        ("--ig-steps", args.ig_steps),
        ("--batch-size", args.batch_size),
        ("--curve-points", args.curve_points),
    ):
        if value < 1:
            raise UserError(f"{flag} must be at least 1, got {value}")
    if args.edges < 0:
        raise UserError(f"--edges must be non-negative, got {args.edges}")
    if args.select == "threshold" and args.threshold is None:
        raise UserError("--select threshold needs --threshold T (edges with |score| >= T are kept)")
    return CircuitSettings(
        method=args.method,
        metric=args.metric,
        ig_steps=args.ig_steps,
        select=args.select,
        edges=args.edges,
        threshold=args.threshold,
        curve_points=args.curve_points,
        batch_size=args.batch_size,
        layers_per_chunk=args.layers_per_chunk,
        positions_per_chunk=args.positions_per_chunk,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    from relearn_interp.circuits.draw import draw
    from relearn_interp.circuits.export import circuit_graph, save_graph
    from relearn_interp.circuits.pipeline import (
        build_pairs,
        circuit_meta,
        circuit_values,
        draw_curve,
        find_circuit,
        model_device,
    )
    from relearn_interp.load import checkpoint_label, load
    from unlearn.io import atomic_dir, check_output_dir, write_json
    from unlearn.models import load_tokenizer

    settings = settings_from(args)
    check_output_dir(args.out, args.overwrite)
    pairs = build_pairs(load_tokenizer(args.ckpt), args.entity, args.data, args.pairs, args.seed)
    dtype, device = model_device(args)
    model = load(args.ckpt, dtype=dtype, device=device)
    label = checkpoint_label(args.ckpt)
    circuit = find_circuit(model, label, pairs, settings)
    values = circuit_values(circuit, settings)
    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        write_json(
            tmp / "circuit.json",
            {"meta": circuit_meta(args.ckpt, pairs, settings, model), "values": values},
        )
        write_json(tmp / "pairs.json", pairs.to_json())
        circuit.scores.save(tmp / "scores.npz")
        graph = circuit_graph(circuit.scores, circuit.keep)
        save_graph(graph, tmp / "graph")
        draw(
            graph,
            tmp / "circuit",
            title=f"{label}, {pairs.source}: {values['circuit']['n_edges']} edges",
        )
        draw_curve({label: values}, tmp / "faithfulness")
    kept = values["circuit"]
    faith = f"{kept['faithfulness']:.2f}" if kept["faithfulness"] is not None else "n/a"
    print(
        f"{len(pairs.pairs)} pairs; circuit of {kept['n_edges']} edges: faithfulness {faith} "
        f"({settings.metric} {kept['metric']:.3f} vs full {values['metric']['clean']:.3f}, "
        f"corrupted {values['metric']['corrupted']:.3f}); wrote {args.out}"
    )
    return 0
