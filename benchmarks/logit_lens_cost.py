"""Cost of the logit lens against one forward pass with cache, measured side by side in one run.

For the tiny preset and SmolLM2-135M, over the same N benchmark prompts (prompt + gold answer,
batched), times: a plain forward; `run_with_cache` caching every hook (what a naive logit lens
starts from); `run_with_cache` of the residual stream only; the floor of an exact full lens (that
cache, then only the unembedding product of every answer position of every layer, no softmax and
no statistics); and the logit lens of `relearn_interp.lens.run.run_lens` (forward with a resid_post
cache, then decoding through ln_final + unembed + the final-logit transform, plus all statistics)
in both modes: every answer position of every layer, and only the two slots (answer start,
knowledge slot). Rounds are interleaved and the median is reported, so background load affects
every variant alike. Run it single-threaded (OMP_NUM_THREADS=1) on a shared machine.

Decoding every answer position costs n_layers x n_answer x d_model x d_vocab multiply-adds: for
SmolLM2 (30 layers, 49k vocabulary) on the default prompts that is about three times the
multiply-adds of the cached forward (which unembeds every position once), so no exact decoding of
every position can come near the cost of one forward pass with cache on a CPU; the slots mode can.

Usage: python benchmarks/logit_lens_cost.py [--prompts 32] [--rounds 5] [--presets tiny,smollm2-135m]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from relearn_interp.lens.decode import DECODE_BYTES, decode_residual
from relearn_interp.lens.run import lens_sites, run_lens
from relearn_interp.load import load
from relearn_interp.prompts import build_prompts, iter_batches
from unlearn.data.benchmark import build_world

TARGET_RATIO = 1.3


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(preset: str, n_prompts: int, rounds: int, batch_size: int) -> dict[str, float]:
    model = load(preset, device="cpu")
    world = build_world(20, seed=0)
    records = (world.split("forget10") + world.split("retain90"))[:n_prompts]
    prompts = build_prompts(model.tokenizer, records)
    sites = lens_sites(model)
    pad_id = model.tokenizer.pad_token_id or 0
    batches = [batch for _, batch in iter_batches(prompts, batch_size, pad_id, "cpu")]
    resid_hooks = [site.hook for site in sites]
    chunk = DECODE_BYTES // (4 * model.cfg.d_vocab)

    def forward() -> None:
        for batch in batches:
            model(batch.tokens)

    def cache_all() -> None:
        for batch in batches:
            model.run_with_cache(batch.tokens)

    def cache_resid() -> None:
        for batch in batches:
            model.run_with_cache(batch.tokens, names_filter=resid_hooks)

    def unembed_floor() -> None:
        for batch in batches:
            _, cache = model.run_with_cache(
                batch.tokens, names_filter=resid_hooks, logits_to_keep=1
            )
            rows = torch.cat([cache[hook][batch.rows, batch.positions] for hook in resid_hooks])
            out = torch.empty((chunk, model.cfg.d_vocab))
            for begin in range(0, rows.shape[0], chunk):
                part = rows[begin : begin + chunk]
                decode_residual(model, part, out=out[: part.shape[0]])

    def lens_answer() -> None:
        run_lens(model, prompts, sites, batch_size=batch_size, progress=False, positions="answer")

    def lens_slots() -> None:
        run_lens(model, prompts, sites, batch_size=batch_size, progress=False, positions="slots")

    variants = {
        "forward": forward,
        "run_with_cache (all hooks)": cache_all,
        "run_with_cache (resid_post)": cache_resid,
        "floor: + unembed every answer row": unembed_floor,
        "logit lens, every answer position": lens_answer,
        "logit lens, slots only": lens_slots,
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    with torch.inference_mode():
        forward()  # warm-up
        for _ in range(rounds):
            for name, fn in variants.items():
                times[name].append(timed(fn))
    n_tokens = sum(len(p.input_ids) for p in prompts)
    n_answer = sum(len(p.answer_ids) for p in prompts)
    print(
        f"\n{preset}: {len(prompts)} prompts, {n_tokens} tokens ({n_answer} answer positions decoded), "
        f"{model.cfg.n_layers} layers, vocab {model.cfg.d_vocab}, median of {rounds} rounds"
    )
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, seconds in medians.items():
        print(f"  {name:<36} {seconds:8.3f} s")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--presets", default="tiny,smollm2-135m")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    for preset in args.presets.split(","):
        medians = measure(preset, args.prompts, args.rounds, args.batch_size)
        for mode in ("every answer position", "slots only"):
            lens = medians[f"logit lens, {mode}"]
            vs_cache = lens / medians["run_with_cache (all hooks)"]
            verdict = "meets" if vs_cache <= TARGET_RATIO else "misses"
            print(
                f"  logit lens ({mode}) / run_with_cache (all hooks): {vs_cache:.2f}x "
                f"({verdict} the {TARGET_RATIO}x target); / plain forward: "
                f"{lens / medians['forward']:.2f}x"
            )


if __name__ == "__main__":
    main()
