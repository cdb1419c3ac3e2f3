"""Compare the knowledge circuits of several checkpoints on the same prompt pairs.

Each checkpoint gets its own circuit, sized by held-out faithfulness (see `circuit`). The diff
then compares every checkpoint with the first one on a fixed edge set (the first checkpoint's
circuit), with scores normalised by each checkpoint's own clean − corrupted gap, on the held-out
pairs: rank overlap (Jaccard of top-n, Spearman), weakened/strengthened counts with bootstrap
CIs over pairs, and a per-pair net share (weakened − strengthened) for the entity-related edges
(read mostly at the subject positions) and for the whole circuit. Writes into --out (replaced as
a whole with --overwrite): circuit_diff.json, pairs.json, graphs/LABEL.{json,graphml},
scores/LABEL.npz, the figures circuit_diff (the edges that changed most; PNG and PDF),
circuits_whole.pdf (every whole circuit) and faithfulness (PNG and PDF).

Example: relearn-interp circuit-diff --ckpt ckpt/vanilla --ckpt ckpt/relearn --ckpt ga=ckpt/ga --entities forget10 --data ours:bench --out results/interp/circuit-diff
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from relearn_interp.commands.circuit import add_circuit_arguments
from relearn_interp.layout import CIRCUIT_DIFF_RESULTS, CIRCUIT_PAIRS
from unlearn.commands.arg_types import float_in

if TYPE_CHECKING:
    from relearn_interp.command_args import CircuitDiffArgs


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ckpt",
        action="append",
        required=True,
        metavar="[LABEL=]CKPT",
        help="checkpoint (repeat; the first is the reference)",
    )
    add_circuit_arguments(parser)
    diff = parser.add_argument_group("diff")
    diff.add_argument(
        "--tolerance",
        type=float_in(0.0, 1.0, high_open=True),
        default=0.1,
        help="relative change of normalised |score| that counts as weakened/strengthened",
    )
    diff.add_argument(
        "--subject-share",
        type=float_in(0.0, 1.0, high_open=True),
        default=0.5,
        help="share of an edge's |score| read at the subject positions that makes it entity-related",
    )


def run(args: argparse.Namespace) -> int:
    from relearn_interp.command_args import CircuitDiffArgs, from_namespace
    from relearn_interp.commands.analysis_args import checkpoint_texts

    checkpoints = checkpoint_texts(args.ckpt)
    return execute(from_namespace(CircuitDiffArgs, args, checkpoints=checkpoints))


def execute(args: CircuitDiffArgs) -> int:
    """Run the command from its typed arguments (the command line's, or a child process's)."""
    import gc

    from relearn_interp.circuits.diff import compare
    from relearn_interp.circuits.export import circuit_graph, save_graph
    from relearn_interp.circuits.pipeline import find_circuit
    from relearn_interp.circuits.results import circuit_meta, circuit_values
    from relearn_interp.commands.analysis_args import checkpoint_specs
    from relearn_interp.commands.circuit import model_device, pairs_from, settings_from, summary
    from relearn_interp.load import load, require_same_vocab
    from relearn_interp.plots.circuit_diff import draw_changes, draw_whole
    from relearn_interp.plots.faithfulness import draw_curve
    from unlearn.errors import UserError
    from unlearn.io import atomic_dir, write_json
    from unlearn.models.loading import load_tokenizer

    settings = settings_from(args)
    specs = checkpoint_specs(args.checkpoints)
    if len(specs) < 2:
        raise UserError("circuit-diff needs at least two checkpoints: --ckpt A --ckpt B")
    dtype, device = model_device(args)
    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        # every checkpoint is resolved (config and weights headers checked) before any circuit
        tokenizers = {label: load_tokenizer(path) for label, path in specs.items()}
        require_same_vocab(tokenizers)
        first_label, first = next(iter(tokenizers.items()))
        pairs = pairs_from(args, first, settings)
        circuits, metas = [], {}
        for label, path in specs.items():
            model = load(path, dtype=dtype, device=device)
            circuit = find_circuit(model, label, pairs, settings)
            circuits.append(circuit)
            metas[label] = circuit_meta(path, pairs, settings, model, circuit.runs.metric)
            del model
            gc.collect()
        values = {c.label: circuit_values(c, settings) for c in circuits}
        numbers = compare(circuits, args.tolerance, args.subject_share, seed=settings.seed)
        meta = {**metas[first_label], "model": specs, "per_checkpoint": metas}
        write_json(
            tmp / CIRCUIT_DIFF_RESULTS,
            {"meta": meta, "values": {"diff": numbers, "circuits": values}},
        )
        write_json(tmp / CIRCUIT_PAIRS, pairs.to_json())
        (tmp / "scores").mkdir()
        for circuit in circuits:
            save_graph(
                circuit_graph(circuit.selection, circuit.keep), tmp / "graphs" / circuit.label
            )
            circuit.selection.save(tmp / "scores" / f"{circuit.label}.npz")
        draw_changes(numbers, tmp / "circuit_diff", title=pairs.source)
        draw_whole(circuits, tmp / "circuits_whole.pdf", title=pairs.source)
        draw_curve(values, tmp / "faithfulness")
    print(f"{len(pairs.pairs)} pairs, metric {circuits[0].runs.metric}")
    for circuit in circuits:
        print(summary(circuit.label, values[circuit.label]))
    for label, entity in numbers["entity_edges"].items():
        net = entity.get("net_share")
        net_text = (
            f"net share weakened {net['value']:+.2f} [{net['low']:+.2f}, {net['high']:+.2f}]"
            if net
            else "no entity-related edges"
        )
        print(
            f"{label} vs {numbers['reference']}: {entity['n_weakened']} of {entity['n_edges']} "
            f"entity edges weakened, {entity['n_strengthened']} strengthened; {net_text}"
        )
    for note in pairs.notes:
        print(f"note: {note}")
    print(f"wrote {args.out}")
    return 0
