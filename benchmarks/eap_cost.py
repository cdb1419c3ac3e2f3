"""Cost of edge attribution (EAP, EAP-IG) against one forward+backward and against TransformerLens.

For each preset, on the same clean/corrupted benchmark pairs, times side by side (rounds
interleaved, median reported): one forward+backward of the batch (gradient wrt the input
embeddings, plain bridge); the same with the per-head split q/k/v inputs the edge gradients need;
our EAP and EAP-IG (k=5) over every edge; and TransformerLens's own edge attribution
(`attribution_patch(granularity="edge")`, one pair at a time, it refuses grouped-query models).
It checks that our EAP equals TransformerLens's scores (inputs swapped: their convention is
denoising), and reports memory against the activation-difference tensor [upstream, batch, pos,
d_model]: autograd's saved activations of one gradient pass (exact, from saved_tensors_hooks),
the split-input share of them, and on CUDA the measured peak.

Usage: python benchmarks/eap_cost.py [--pairs 16] [--rounds 3] [--batch-size 8] [--presets tiny,smollm2-135m] [--device cpu]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

from relearn_interp.circuits.attribute import attribute, diff_tensor_bytes
from relearn_interp.circuits.fact_pairs import entity_pairs
from relearn_interp.circuits.graph import EMBED_HOOK, Graph, edge_hooks
from relearn_interp.circuits.metrics import metric_per_pair
from relearn_interp.circuits.pairs import make_batches
from relearn_interp.load import load
from unlearn.data.benchmark import build_world

TARGET_VS_TL = 1.0  # ours must be faster than TransformerLens on the same pairs


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def benchmark_pairs(tokenizer, n_pairs: int):
    world = build_world(20, seed=0)
    pairs = []
    for author in world.authors:
        pairs += entity_pairs(tokenizer, world.records, [author.name], partners=1).pairs
        if len(pairs) >= n_pairs:
            break
    return pairs[:n_pairs]


def forward_backward(model, batches, split: bool) -> None:
    """One forward and one backward of the metric wrt the input embeddings, per batch."""
    with edge_hooks(model) if split else contextlib.nullcontext():
        for batch in batches:
            leaves: list[torch.Tensor] = []

            def leaf(tensor, hook, leaves=leaves):
                leaves.append(tensor.detach().requires_grad_(True))
                return leaves[-1]

            with torch.enable_grad():
                with model.hooks(fwd_hooks=[(EMBED_HOOK, leaf)]):
                    logits = model(batch.clean)
                torch.autograd.grad(metric_per_pair("logit_diff", logits, batch).sum(), leaves[0])


@contextlib.contextmanager
def weights_require_grad(model):
    """TransformerLens's attribution_patch differentiates through weights that require grad."""
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    try:
        yield
    finally:
        for parameter in model.parameters():
            parameter.requires_grad_(False)


def transformer_lens_scores(model, graph: Graph, single_batches) -> torch.Tensor:
    """TransformerLens edge attribution summed over positions, averaged over pairs, in our matrix."""
    from transformer_lens.tools.analysis.attribution_patching import (
        EdgeAttributionConfig,
        attribution_patch,
    )

    total = torch.zeros(graph.n_upstream, graph.n_downstream)
    readers = {"q_input": graph.q_cols, "k_input": graph.k_cols, "v_input": graph.v_cols}
    writers = {
        "embed": lambda n: 0,
        "attn_head_out": lambda n: graph.head_row(n.layer, n.head),
        "mlp_out": lambda n: graph.mlp_row(n.layer),
    }
    with weights_require_grad(model):
        for batch in single_batches:
            result = attribution_patch(
                model,
                batch.corrupted,
                batch.clean,
                lambda logits, b=batch: metric_per_pair("logit_diff", logits, b).sum(),
                EdgeAttributionConfig(granularity="edge"),
            )
            for (source, target), score in result.edge_scores.items():
                if target.kind == "logits":
                    down = graph.logits_col
                elif target.kind == "mlp_in":
                    down = graph.mlp_col(target.layer)
                else:
                    down = readers[target.kind](target.layer).start + target.head
                total[writers[source.kind](source), down] += score
    return total / len(single_batches)


def saved_bytes(model, fn) -> int:
    """Bytes autograd keeps for backward while `fn` runs (distinct storages, weights excluded)."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        key = tensor.untyped_storage().data_ptr()
        if key not in weights:
            seen.setdefault(key, tensor.untyped_storage().nbytes())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        fn()
    return sum(seen.values())


def measure(preset: str, args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    model = load(preset, device=device)
    graph = Graph.from_model(model)
    pairs = benchmark_pairs(model.tokenizer, args.pairs)
    pad = model.tokenizer.pad_token_id or 0
    batches = make_batches(pairs, args.batch_size, pad, device)
    singles = make_batches(pairs, 1, pad, device)
    n_tokens = sum(len(p.clean_ids) for p in pairs)
    variants = {
        "forward+backward": lambda: forward_backward(model, batches, split=False),
        "forward+backward, split q/k/v inputs": lambda: forward_backward(
            model, batches, split=True
        ),
        "EAP (all edges)": lambda: attribute(model, batches, method="eap", progress=False),
        "EAP-IG k=5 (all edges)": lambda: attribute(
            model, batches, method="eap-ig", progress=False
        ),
    }
    tl_refusal = None
    if graph.n_kv_heads == graph.n_heads:
        variants["TransformerLens edge attribution"] = lambda: transformer_lens_scores(
            model, graph, singles
        )
    else:
        tl_refusal = "refuses grouped-query attention (n_key_value_heads != n_heads)"
    times: dict[str, list[float]] = {name: [] for name in variants}
    forward_backward(model, batches, split=True)  # warm-up
    for _ in range(args.rounds):
        for name, fn in variants.items():
            times[name].append(timed(fn))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"\n{preset} ({graph.n_layers} layers, {graph.n_heads} heads, {graph.n_kv_heads} key/value heads, "
        f"{graph.n_edges} edges): {len(pairs)} pairs, {n_tokens} tokens per side, batch {args.batch_size}, "
        f"median of {args.rounds} rounds on {device}"
    )
    for name, seconds in medians.items():
        print(f"  {name:<40} {seconds:8.3f} s")
    base = medians["forward+backward"]
    print(f"  ratio EAP / forward+backward:            {medians['EAP (all edges)'] / base:6.2f}x")
    print(
        f"  ratio EAP-IG(5) / forward+backward:      {medians['EAP-IG k=5 (all edges)'] / base:6.2f}x"
    )
    if tl_refusal:
        print(f"  TransformerLens edge attribution: {tl_refusal}")
    else:
        ratio = medians["EAP (all edges)"] / medians["TransformerLens edge attribution"]
        verdict = "meets" if ratio < TARGET_VS_TL else "misses"
        print(
            f"  ratio EAP / TransformerLens:             {ratio:6.3f}x ({verdict} the target: faster)"
        )
        ours = attribute(model, batches, method="eap", subject=False, progress=False).scores
        theirs = transformer_lens_scores(model, graph, singles)
        error = float((ours - theirs).abs().max() / ours.abs().max())
        print(f"  same scores: max |ours - TransformerLens| / max |score| = {error:.1e}")
    report_memory(model, graph, batches, device)


def report_memory(model, graph: Graph, batches, device: torch.device) -> None:
    batch = max(batches, key=lambda b: b.size * b.n_positions)
    dtype = next(model.parameters()).dtype
    diff = diff_tensor_bytes(graph, batch.size * batch.n_positions, model.cfg.d_model, dtype)
    plain = saved_bytes(model, lambda: forward_backward(model, [batch], split=False))
    split = saved_bytes(model, lambda: forward_backward(model, [batch], split=True))
    per_value = (split - plain) / (
        batch.size
        * batch.n_positions
        * graph.n_layers
        * (graph.n_heads + 2 * graph.n_kv_heads)
        * model.cfg.d_model
    )
    mb = 1e6
    print(f"  memory for one batch of {batch.size} x {batch.n_positions} tokens:")
    print(
        f"    activation-difference tensor [{graph.n_upstream}, {batch.size}, {batch.n_positions}, "
        f"{model.cfg.d_model}]: {diff / mb:8.2f} MB"
    )
    print(f"    saved for backward, plain bridge:             {plain / mb:8.2f} MB")
    print(
        f"    saved for backward, split q/k/v inputs:       {split / mb:8.2f} MB "
        f"(+{per_value:.2f} bytes per head-input value: L x (H + 2 KV) x d per token)"
    )
    print(
        f"    EAP gradient pass, total estimate:            {(split + diff) / mb:8.2f} MB "
        f"= {(split + diff) / diff:.2f}x the difference tensor"
    )
    if device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        attribute(model, [batch], method="eap", progress=False)
        peak = torch.cuda.max_memory_allocated() - base
        print(
            f"    measured CUDA peak of EAP above the weights:  {peak / mb:8.2f} MB = {peak / diff:.2f}x the difference tensor"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--presets", default="tiny,smollm2-135m")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    for preset in args.presets.split(","):
        measure(preset, args)


if __name__ == "__main__":
    main()
