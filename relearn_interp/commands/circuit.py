"""Find the knowledge circuit of one or more entities (or of CSV prompt pairs), sized by faithfulness.

Edges are ranked with EAP-IG on one half of the pairs (split by fact) and judged on the other:
the circuit is the smallest size on MIB's grid whose held-out normalised faithfulness reaches
--target (or a fixed --edges / --threshold). Writes into --out (a folder replaced as a whole with
--overwrite): circuit.json (meta and values: held-out faithfulness with CI, the grid curve, CPR,
CMD, per-pair metrics, strongest edges), pairs.json, scores.npz (selection-pair scores),
graph.json (node-link) and graph.graphml, and the figures circuit and faithfulness (PNG and PDF).

Example: relearn-interp circuit --entity "Nia Hym" --ckpt ckpt/vanilla --data ours:bench --out results/interp/circuit-nia
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from relearn_interp.layout import CIRCUIT_PAIRS, CIRCUIT_RESULTS
from unlearn.commands.arg_types import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    finite_float,
    float_in,
    fraction_list,
)

if TYPE_CHECKING:
    import torch

    from relearn_interp.circuits.pairs import PairSet
    from relearn_interp.circuits.pipeline import CircuitSettings
    from relearn_interp.command_args import CircuitArgs, CircuitOptions

METHODS = ("eap-ig", "eap")
METRICS = ("auto", "logit_diff", "prob_diff", "answer_logprob", "kl")
SELECTIONS = ("top-n", "greedy")
DTYPES = ("float32", "bfloat16", "float16")
MIB_GRID_TEXT = "0.001,0.002,0.005,0.01,0.02,0.05,0.1,0.2,0.5,1"


def add_circuit_arguments(parser: argparse.ArgumentParser) -> None:
    """Pairs, scoring, sizing and run options shared with circuit-diff (`CircuitOptions`)."""
    _add_pair_arguments(parser)
    _add_scoring_arguments(parser)
    _add_sizing_arguments(parser)
    _add_run_arguments(parser)


def _add_pair_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the prompt pairs come from: entities of a data set, or a CSV."""
    pairs = parser.add_argument_group("pairs")
    pairs.add_argument(
        "--entity",
        action="append",
        default=[],
        help="an entity whose facts give the clean prompts (repeat to pool several)",
    )
    pairs.add_argument(
        "--entities",
        metavar="SPLIT",
        help="pool every subject of a split of the --data benchmark (e.g. forget10), or 'all'",
    )
    pairs.add_argument(
        "--data", help="ours:DIR[#split], ours:FILE or tofu:FILE (entities without triples too)"
    )
    pairs.add_argument(
        "--pairs",
        help="CSV with columns clean, corrupted, gold, corrupted_gold (instead of --entity)",
    )
    pairs.add_argument(
        "--partners-per-fact",
        type=POSITIVE_INT,
        default=3,
        help="corrupting subjects (or names) per fact",
    )
    pairs.add_argument(
        "--partners",
        help="names to swap in for an entity without fact triples: a text file (one a line) or "
        "a comma-separated list (default: other names found in the data's questions)",
    )
    pairs.add_argument(
        "--answer-tokens",
        type=POSITIVE_INT,
        default=8,
        help="target answer tokens of name-swap pairs (after the answer's last mention of the name)",
    )
    pairs.add_argument(
        "--max-pairs", type=POSITIVE_INT, help="keep at most this many pairs (whole facts, seeded)"
    )


def _add_scoring_arguments(parser: argparse.ArgumentParser) -> None:
    """The output folder, and how edges are scored."""
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument(
        "--method", choices=METHODS, default="eap-ig", help="edge attribution method"
    )
    parser.add_argument(
        "--ig-steps",
        type=POSITIVE_INT,
        default=5,
        help="EAP-IG interpolation steps (corrupted → clean embeddings)",
    )
    parser.add_argument(
        "--metric",
        choices=METRICS,
        default="auto",
        help="auto: logit_diff when pairs know the corrupted gold (fact triples, CSV), else "
        "answer_logprob (the clean answer's target tokens); kl needs --method eap-ig",
    )


def _add_sizing_arguments(parser: argparse.ArgumentParser) -> None:
    """How big the circuit is: the target faithfulness on MIB's grid, or a fixed size."""
    sizing = parser.add_argument_group("circuit size")
    sizing.add_argument(
        "--target",
        type=float_in(0.0, 1.0, low_open=True),
        default=0.8,
        help="held-out normalised faithfulness the circuit must reach (smallest grid size that does)",
    )
    sizing.add_argument(
        "--grid",
        type=fraction_list,
        default=MIB_GRID_TEXT,
        help="fractions of edges on the faithfulness curve (MIB's grid); must end at 1",
    )
    sizing.add_argument(
        "--select",
        choices=SELECTIONS,
        default="top-n",
        help="how a size becomes a circuit: top-n by |score|, or greedy from the logits",
    )
    sizing.add_argument(
        "--edges", type=NON_NEGATIVE_INT, help="fix the circuit size instead of the target"
    )
    sizing.add_argument(
        "--threshold", type=finite_float, help="fix the circuit as the edges with |score| >= T"
    )


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Batching, memory, dtype, device, seed and overwriting."""
    parser.add_argument(
        "--batch-size", type=POSITIVE_INT, default=8, help="prompt pairs per forward pass"
    )
    parser.add_argument(
        "--layers-per-chunk",
        type=POSITIVE_INT,
        help="keep activation differences for this many upstream layers at a time (saves memory, reruns passes)",
    )
    parser.add_argument(
        "--positions-per-chunk",
        type=POSITIVE_INT,
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
        "--seed",
        type=int,
        default=0,
        help="seed of the partners, the held-out split and the bootstrap",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ckpt", required=True, help="checkpoint folder, adapter folder, preset or hub id"
    )
    add_circuit_arguments(parser)


def settings_from(args: CircuitOptions) -> CircuitSettings:
    """CircuitSettings from the command's arguments (argparse has checked each number's range)."""
    from relearn_interp.circuits.pipeline import CircuitSettings
    from unlearn.errors import UserError

    if args.edges is not None and args.threshold is not None:
        raise UserError("give --edges or --threshold, not both")
    return CircuitSettings(
        method=args.method,
        metric=args.metric,
        ig_steps=args.ig_steps,
        select=args.select,
        edges=args.edges,
        threshold=args.threshold,
        target=args.target,
        grid=args.grid,
        partners=args.partners_per_fact,
        answer_tokens=args.answer_tokens,
        max_pairs=args.max_pairs,
        batch_size=args.batch_size,
        layers_per_chunk=args.layers_per_chunk,
        positions_per_chunk=args.positions_per_chunk,
        seed=args.seed,
    )


def partner_names(text: str | None) -> list[str]:
    """--partners: a text file with one name a line, or a comma-separated list."""
    if not text:
        return []
    path = Path(text)
    if path.is_file():
        from unlearn.io import read_text

        lines = read_text(path, what="partners file").splitlines()
        return [line.strip() for line in lines if line.strip()]
    return [name.strip() for name in text.split(",") if name.strip()]


def pairs_from(args: CircuitOptions, tokenizer, settings: CircuitSettings) -> PairSet:
    """The prompt pairs the arguments ask for (entities of --data, or a CSV)."""
    from relearn_interp.circuits.pipeline import build_pairs

    return build_pairs(
        tokenizer,
        args.entity,
        args.data,
        args.pairs,
        settings,
        entity_split=args.entities,
        partner_names=partner_names(args.partners),
    )


def summary(label: str, values: dict) -> str:
    """One line: the circuit's size, held-out faithfulness with CI, whether it reached the target."""
    kept, metric = values["circuit"], values["metric"]
    ci = kept["faithfulness_ci"]
    faith = f"{ci['value']:.2f} [{ci['low']:.2f}, {ci['high']:.2f}]" if ci else "n/a (no gap)"
    if kept["target_reached"]:
        reached = f"reached target {kept['target']:g}"
    elif kept["best_faithfulness"] is None:
        reached = f"target {kept['target']:g} NOT reached (no clean-corrupted gap)"
    else:
        reached = (
            f"target {kept['target']:g} NOT reached (best {kept['best_faithfulness']:.2f} at "
            f"{100 * kept['best_fraction']:g}% of edges)"
        )
    areas = ""
    if values["cpr"] and values["cmd"]:
        areas = f", CPR {values['cpr']['value']:.3f}, CMD {values['cmd']['value']:.3f}"
    return (
        f"{label}: {kept['n_edges']} edges ({100 * kept['fraction_of_edges']:.2g}%), held-out "
        f"faithfulness {faith}, {reached}{areas} (metric {metric['name']}: clean "
        f"{metric['clean']:.3f}, corrupted {metric['corrupted']:.3f})"
    )


def run(args: argparse.Namespace) -> int:
    from relearn_interp.command_args import CircuitArgs, from_namespace

    return execute(from_namespace(CircuitArgs, args))


def execute(args: CircuitArgs) -> int:
    """Run the command from its typed arguments."""
    from relearn_interp.circuits.export import circuit_graph, save_graph
    from relearn_interp.circuits.pipeline import find_circuit
    from relearn_interp.circuits.results import circuit_meta, circuit_values
    from relearn_interp.load import checkpoint_label, load
    from relearn_interp.plots.circuit import draw
    from relearn_interp.plots.faithfulness import draw_curve
    from unlearn.io import atomic_dir, write_json
    from unlearn.models.loading import load_tokenizer

    settings = settings_from(args)
    dtype, device = model_device(args)
    with atomic_dir(args.out, overwrite=args.overwrite) as tmp:
        pairs = pairs_from(args, load_tokenizer(args.ckpt), settings)
        model = load(args.ckpt, dtype=dtype, device=device)
        label = checkpoint_label(args.ckpt)
        circuit = find_circuit(model, label, pairs, settings)
        values = circuit_values(circuit, settings)
        meta = circuit_meta(args.ckpt, pairs, settings, model, values["metric"]["name"])
        write_json(tmp / CIRCUIT_RESULTS, {"meta": meta, "values": values})
        write_json(tmp / CIRCUIT_PAIRS, pairs.to_json())
        circuit.selection.save(tmp / "scores.npz")
        graph = circuit_graph(circuit.selection, circuit.keep)
        save_graph(graph, tmp / "graph")
        draw(
            graph,
            tmp / "circuit",
            title=f"{label}, {pairs.source}: {values['circuit']['n_edges']} edges",
        )
        draw_curve({label: values}, tmp / "faithfulness")
    print(
        f"{len(pairs.pairs)} pairs ({values['pairs']['n_selection']} selection, "
        f"{values['pairs']['n_heldout']} held-out); {summary(label, values)}; wrote {args.out}"
    )
    for note in pairs.notes:
        print(f"note: {note}")
    return 0


def model_device(args: CircuitOptions) -> tuple[torch.dtype, torch.device]:
    """dtype and device from --dtype/--device (default: cuda when available), checked up front."""
    import torch

    from unlearn.devices import resolve_device

    return getattr(torch, args.dtype), resolve_device(args.device)
