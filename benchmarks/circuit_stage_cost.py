"""What the main job's circuit stage costs on SmolLM2-135M, and whether plain EAP ranks edges like EAP-IG.

Part 1 (cost): on the main job's pair set (the smollm2 preset's benchmark: 10 authors, the
forget30 authors, up to --partners corrupting authors per fact), times the pieces of one
checkpoint's circuit: EAP and EAP-IG (k = 3, 5) scores on all pairs (both halves), the patched
runs of the held-out half on MIB's grid, and the whole `find_circuit` with EAP and with EAP-IG;
then extrapolates to the stage (--checkpoints checkpoints). Rounds are interleaved and the
minimum is kept (the machine is shared; the minimum is the least disturbed run).

Part 2 (agreement): on pairs with a real effect on the untuned model (capital cities: "The capital
city of France is" → " Paris", corrupted by another country), and on the main job's pairs:
Spearman correlation of |EAP| and |EAP-IG(5)| over every edge, the overlap (Jaccard) of their
top 0.5/1/5% edges, and the held-out faithfulness curve and CPR/CMD of the circuits each ranks.

Usage: OMP_NUM_THREADS=1 python benchmarks/circuit_stage_cost.py [--rounds 1] [--partners 3]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import attribute
from relearn_interp.circuits.faithfulness import run_circuits
from relearn_interp.circuits.graph import Graph
from relearn_interp.circuits.pairs import PairSet, csv_pairs, make_batches, split_heldout
from relearn_interp.circuits.pipeline import CircuitSettings, build_pairs, find_circuit
from relearn_interp.circuits.sizing import MIB_GRID, grid_sizes
from relearn_interp.load import load
from unlearn.data.benchmark import build_world, write_world
from unlearn.models.loading import resolve_model

CAPITALS = {
    "France": "Paris",
    "Italy": "Rome",
    "Spain": "Madrid",
    "Germany": "Berlin",
    "Japan": "Tokyo",
    "Russia": "Moscow",
    "Egypt": "Cairo",
    "Greece": "Athens",
    "Canada": "Ottawa",
    "Poland": "Warsaw",
    "Sweden": "Stockholm",
    "Norway": "Oslo",
    "Kenya": "Nairobi",
    "Peru": "Lima",
    "China": "Beijing",
    "Austria": "Vienna",
}


def main_job_pairs(tokenizer, folder: Path, partners: int) -> PairSet:
    world = build_world(10, 0, forget_pcts=(30,))
    write_world(world, folder / "bench")
    settings = CircuitSettings(partners=partners)
    return build_pairs(
        tokenizer, [], f"ours:{folder / 'bench'}", None, settings, entity_split="forget30"
    )


def capital_pairs(tokenizer, folder: Path) -> PairSet:
    path = folder / "capitals.csv"
    countries = list(CAPITALS)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["clean", "corrupted", "gold", "corrupted_gold"])
        for i, country in enumerate(countries):
            for step in (1, 5):
                other = countries[(i + step) % len(countries)]
                writer.writerow(
                    [
                        f"The capital city of {country} is",
                        f"The capital city of {other} is",
                        f" {CAPITALS[country]}",
                        f" {CAPITALS[other]}",
                    ]
                )
    return csv_pairs(tokenizer, path)


def best_of(rounds: int, fn) -> float:
    """CPU seconds of this process (one torch thread: the wall time of an undisturbed run)."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def cost(model, pairs: PairSet, rounds: int, checkpoints: int) -> None:
    selection, heldout = split_heldout(pairs.pairs)
    everything = make_batches(selection, 8, 0, "cpu") + make_batches(heldout, 8, 0, "cpu")
    held = make_batches(heldout, 8, 0, "cpu")
    tokens = sum(len(p.clean_ids) for p in pairs.pairs)
    print(
        f"\nmain-job pairs: {len(pairs.pairs)} pairs ({len(selection)} selection / {len(heldout)} "
        f"held-out), {tokens} tokens, skipped {pairs.to_json()['skipped']}"
    )
    scores = attribute(model, everything[:1], method="eap", progress=False)  # warm-up
    graph = scores.graph
    masks = [prune.top_n(graph, scores.scores, n) for n in grid_sizes(graph.n_edges, MIB_GRID)[:-1]]
    timed = {
        "EAP, all pairs": lambda: attribute(model, everything, method="eap", progress=False),
        "EAP-IG k=3, all pairs": lambda: attribute(
            model, everything, method="eap-ig", ig_steps=3, progress=False
        ),
        "EAP-IG k=5, all pairs": lambda: attribute(
            model, everything, method="eap-ig", ig_steps=5, progress=False
        ),
        "clean + corrupted runs, held-out": lambda: run_circuits(model, held, [], progress=False),
        "9 grid circuits + clean + corrupted, held-out": lambda: run_circuits(
            model, held, masks, progress=False
        ),
    }
    for method, steps in (("eap", 1), ("eap-ig", 3), ("eap-ig", 5)):
        settings = CircuitSettings(method=method, ig_steps=steps, partners=3)
        timed[f"find_circuit {method} k={steps}"] = lambda s=settings: find_circuit(
            model, "x", pairs, s, progress=False
        )
    results = {}
    for name, fn in timed.items():
        results[name] = best_of(rounds, fn)
        print(f"  {name:<48} {results[name]:7.1f} s", flush=True)
    per_mask = (
        results["9 grid circuits + clean + corrupted, held-out"]
        - results["clean + corrupted runs, held-out"]
    ) / len(masks)
    print(f"  one faithfulness point (held-out half):          {per_mask:7.1f} s")
    for name in [n for n in results if n.startswith("find_circuit")]:
        print(
            f"  stage of {checkpoints} checkpoints with {name.split(' ', 1)[1]:<12} "
            f"{checkpoints * results[name] / 60:5.1f} min single-threaded (+ loading)"
        )


def agreement(model, pairs: PairSet, label: str) -> None:
    selection, heldout = split_heldout(pairs.pairs)
    chosen = make_batches(selection, 8, 0, "cpu")
    eap = attribute(model, chosen, method="eap", progress=False).scores
    ig = attribute(model, chosen, method="eap-ig", ig_steps=5, progress=False).scores
    graph = Graph.from_model(model)
    allowed = graph.allowed
    rho = spearmanr(eap[allowed].abs().numpy(), ig[allowed].abs().numpy()).statistic
    print(f"\n{label}: {len(pairs.pairs)} pairs; EAP vs EAP-IG(5) on the selection half")
    print(f"  Spearman of |score| over all {graph.n_edges} edges: {rho:.3f}")
    for fraction in (0.005, 0.01, 0.05):
        n = int(fraction * graph.n_edges)
        top_eap, top_ig = (set(prune.ranked(graph, s)[:n].tolist()) for s in (eap, ig))
        print(
            f"  Jaccard of the top {100 * fraction:g}% ({n} edges): "
            f"{len(top_eap & top_ig) / len(top_eap | top_ig):.3f}"
        )
    for method, steps in (("eap", 1), ("eap-ig", 5)):
        settings = CircuitSettings(method=method, ig_steps=steps)
        circuit = find_circuit(model, method, pairs, settings, progress=False)
        sizing = circuit.sizing
        curve = ", ".join(
            f"{100 * x:g}%: {f:.2f}"
            for x, f in zip(sizing["fractions"], sizing["faithfulness"], strict=True)
        )
        choice = sizing["choice"]
        print(
            f"  {method:<6} held-out f: {curve}; CPR {sizing['cpr']['value']:.3f}, CMD "
            f"{sizing['cmd']['value']:.3f}; target 0.8 "
            + (f"reached at {100 * choice['fraction']:g}%" if choice["reached"] else "not reached")
        )
    gap = float(np.mean(circuit.runs.gap))
    print(f"  mean clean - corrupted logit difference on the held-out pairs: {gap:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--partners", type=int, default=3)
    parser.add_argument("--checkpoints", type=int, default=6)
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    model = load(resolve_model("smollm2-135m"), device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        pairs = main_job_pairs(model.tokenizer, Path(folder), args.partners)
        if not args.skip_cost:
            cost(model, pairs, args.rounds, args.checkpoints)
        agreement(model, capital_pairs(model.tokenizer, Path(folder)), "capital cities")
        agreement(model, pairs, "main-job pairs (untuned SmolLM2: it does not know these facts)")


if __name__ == "__main__":
    main()
