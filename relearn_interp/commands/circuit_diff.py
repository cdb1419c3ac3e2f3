"""Compare the knowledge circuits of several checkpoints on the same prompt pairs.

Edges kept in one circuit and not another, the score change of every edge against the first
checkpoint, and which entity-related edges (read at the subject positions, or into heads that
attend to the subject) weakened or strengthened. Writes into --out (replaced as a whole with
--overwrite): circuit_diff.json, pairs.json, graphs/LABEL.{json,graphml}, scores/LABEL.npz and
the figures circuit_diff (shared layout) and faithfulness (PNG and PDF).

Example: relearn-interp circuit-diff --ckpt ckpt/vanilla --ckpt ckpt/relearn --ckpt ga=ckpt/ga --entity "Nia Hym" --data ours:bench --out results/interp/circuit-diff-nia
"""

from __future__ import annotations

import argparse

from relearn_interp.commands.circuit import add_circuit_arguments


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ckpt",
        action="append",
        required=True,
        metavar="[LABEL=]CKPT",
        help="checkpoint (repeat; the first is the reference)",
    )
    add_circuit_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import gc

    from relearn_interp.circuits.diff import compare, draw_diff
    from relearn_interp.circuits.export import circuit_graph, save_graph
    from relearn_interp.circuits.pipeline import (
        build_pairs,
        circuit_meta,
        circuit_values,
        draw_curve,
        find_circuit,
        model_device,
    )
    from relearn_interp.commands.analysis_args import checkpoint_specs
    from relearn_interp.commands.circuit import settings_from
    from relearn_interp.load import load, require_same_vocab
    from unlearn.errors import UserError
    from unlearn.io import atomic_dir, check_output_dir, write_json
    from unlearn.models import load_tokenizer

    settings = settings_from(args)
    check_output_dir(args.out, args.overwrite)
    specs = checkpoint_specs(args.ckpt)
    if len(specs) < 2:
        raise UserError("circuit-diff needs at least two checkpoints: --ckpt A --ckpt B")
    tokenizers = {label: load_tokenizer(path) for label, path in specs.items()}
    require_same_vocab(tokenizers)
    first_label, first = next(iter(tokenizers.items()))
    pairs = build_pairs(first, args.entity, args.data, args.pairs, args.seed)
    dtype, device = model_device(args)
    circuits, metas = [], {}
    for label, path in specs.items():
        model = load(path, dtype=dtype, device=device)
        circuits.append(find_circuit(model, label, pairs, settings))
        metas[label] = circuit_meta(path, pairs, settings, model)
        del model
        gc.collect()
    values = {label: circuit_values(c, settings) for label, c in zip(specs, circuits, strict=True)}
    numbers = compare(circuits)
    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        meta = {**metas[first_label], "model": specs, "per_checkpoint": metas}
        write_json(
            tmp / "circuit_diff.json",
            {"meta": meta, "values": {"diff": numbers, "circuits": values}},
        )
        write_json(tmp / "pairs.json", pairs.to_json())
        for circuit in circuits:
            save_graph(circuit_graph(circuit.scores, circuit.keep), tmp / "graphs" / circuit.label)
            (tmp / "scores").mkdir(exist_ok=True)
            circuit.scores.save(tmp / "scores" / f"{circuit.label}.npz")
        draw_diff(circuits, tmp / "circuit_diff", title=pairs.source)
        draw_curve(values, tmp / "faithfulness")
    for label, summary in numbers["entity_edges"].items():
        print(
            f"{label} vs {numbers['reference']}: {summary['n_weakened']} entity edges weakened, "
            f"{summary['n_strengthened']} strengthened"
        )
    print(f"wrote {args.out}")
    return 0
