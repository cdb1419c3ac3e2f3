"""Training throughput of our loop against a plain transformers `Trainer`, and NPO's memory cost.

Both sides train the same model on the same examples with the same batch size, AdamW, linear
schedule and gradient clipping, measured side by side in one run (alternating, best of
`--repeats`); tokens/s counts non-padding input tokens. Ours runs the `sft` objective so that
both compute the same loss. Presets: `tiny` (full fine-tuning) and `smollm2-135m` (LoRA).
The memory NPO (policy + frozen reference) adds over GA is measured in fresh processes: on a GPU
the peak allocated, on CPU the peak RSS above the RSS with the model loaded (with LoRA, the
reference is the adapter switched off, so NPO should cost about what GA does).

The two arithmetic paths of `--mixed-precision`: one step of our loop in fp32 and under bf16
autocast, side by side, beside a 1024x576 @ 576x1536 matmul each way, and what `auto` resolves to
on this CPU. Without native bf16 (AVX2 only) autocast is many times slower; `auto` then picks fp32.

Usage: python benchmarks/train_throughput.py [--preset tiny] [--steps 20] [--repeats 2] [--threads 1]
       python benchmarks/train_throughput.py --precision-only --preset smollm2-135m --batch-size 16
Targets: ours / Trainer >= 1.0x; the path `auto` picks is the faster one (ratio >= 1.0x).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import torch

from unlearn.presets import PRESETS

MEMORY_PROBE = "--memory-probe"


def examples_for(preset: str):
    from unlearn.data.benchmark import build_world
    from unlearn.models.loading import load_tokenizer
    from unlearn.training.data import encode_pairs

    tokenizer = load_tokenizer(preset)
    world = build_world(20, seed=0)
    pairs = [(r.question, r.answer) for r in world.records]
    return tokenizer, encode_pairs(tokenizer, pairs, 256)


def config_for(preset: str, batch_size: int, mixed_precision: str = "no"):
    from unlearn.training.config import TrainConfig

    return TrainConfig(
        mixed_precision=mixed_precision,
        epochs=1,
        lr=1e-4,
        batch_size=batch_size,
        warmup_ratio=0.1,
        weight_decay=0.0,
        lora=preset != "tiny",
        seed=0,
    )


def tokens_in(examples, steps: int, batch_size: int) -> int:
    return sum(len(e.input_ids) for e in examples[: steps * batch_size])


def run_ours(
    preset: str, examples, tokenizer, steps: int, batch_size: int, mixed_precision: str = "no"
) -> float:
    """Seconds for `steps` optimizer steps of our loop (sft objective)."""
    from unlearn.methods import SFT
    from unlearn.models.loading import load_model
    from unlearn.training.loop import TrainLoop

    model, _ = load_model(preset)
    loop = TrainLoop(
        model,
        SFT,
        examples[: steps * batch_size],
        [],
        config_for(preset, batch_size, mixed_precision),
        tokenizer.pad_token_id,
    )
    loop._groups(0)  # data order is part of setup, as the Trainer's dataloader is
    start = time.perf_counter()
    loop.run()
    return time.perf_counter() - start


def run_trainer(preset: str, examples, tokenizer, steps: int, batch_size: int) -> float:
    """Seconds for `steps` optimizer steps of a plain transformers Trainer (same settings)."""
    from transformers import Trainer, TrainingArguments

    from unlearn.models.loading import load_model
    from unlearn.prompting import collate
    from unlearn.training.lora import wrap_lora

    model, _ = load_model(preset)
    config = config_for(preset, batch_size)
    if config.lora:
        torch.manual_seed(0)
        model = wrap_lora(model, config)
    model.config.use_cache = False
    rows = [{"input_ids": e.input_ids, "labels": e.labels} for e in examples[: steps * batch_size]]
    pad_id = tokenizer.pad_token_id

    def collator(batch: list[dict]) -> dict:
        from unlearn.prompting import Example

        return collate([Example(b["input_ids"], b["labels"]) for b in batch], pad_id)

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=batch_size,
            num_train_epochs=1,
            learning_rate=config.lr,
            warmup_steps=round(config.warmup_ratio * steps),
            weight_decay=0.0,
            max_grad_norm=1.0,
            lr_scheduler_type="linear",
            logging_strategy="no",
            save_strategy="no",
            report_to=[],
            dataloader_num_workers=0,
            remove_unused_columns=False,
            seed=0,
            disable_tqdm=True,
            use_cpu=not torch.cuda.is_available(),
        )
        trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=collator)
        start = time.perf_counter()
        trainer.train()
        return time.perf_counter() - start


def throughput(preset: str, steps: int, batch_size: int, repeats: int) -> None:
    tokenizer, examples = examples_for(preset)
    tokens = tokens_in(examples, steps, batch_size)
    run_ours(preset, examples, tokenizer, 2, batch_size)  # warm-up (allocator, kernels)
    run_trainer(preset, examples, tokenizer, 2, batch_size)
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(run_ours(preset, examples, tokenizer, steps, batch_size))
        theirs.append(run_trainer(preset, examples, tokenizer, steps, batch_size))
    ours_rate, theirs_rate = tokens / min(ours), tokens / min(theirs)
    mode = "full" if preset == "tiny" else "LoRA"
    print(
        f"{preset} ({mode}, batch {batch_size}, {steps} steps, {tokens} tokens): "
        f"ours {ours_rate:,.0f} tok/s, Trainer {theirs_rate:,.0f} tok/s, ratio {ours_rate / theirs_rate:.2f}x"
    )


def matmul_seconds(autocast: bool, repeats: int = 5) -> float:
    """Best-of time of the issue's probe matmul, 1024x576 @ 576x1536, fp32 or bf16 autocast."""
    a, b = torch.randn(1024, 576), torch.randn(576, 1536)
    best = float("inf")
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        for _ in range(repeats + 1):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
    return best


def precision_paths(preset: str, steps: int, batch_size: int, repeats: int) -> None:
    """One training step in fp32 and under bf16 autocast, side by side, and what auto picks."""
    from unlearn.precision import cpu_capability, native_bf16, resolve_mixed_precision

    tokenizer, examples = examples_for(preset)
    fp32_mm, bf16_mm = matmul_seconds(False), matmul_seconds(True)
    run_ours(preset, examples, tokenizer, 1, batch_size, "no")  # warm-up
    run_ours(preset, examples, tokenizer, 1, batch_size, "bf16")
    times: dict[str, list[float]] = {"no": [], "bf16": []}
    for _ in range(repeats):
        for path in times:
            times[path].append(run_ours(preset, examples, tokenizer, steps, batch_size, path))
    fp32, bf16 = min(times["no"]) / steps, min(times["bf16"]) / steps
    auto = resolve_mixed_precision("auto", "cpu")
    native = "native bf16" if native_bf16("cpu") else "no native bf16"
    chosen, other = (bf16, fp32) if auto == "bf16" else (fp32, bf16)
    mode = "full" if preset == "tiny" else "LoRA"
    print(
        f"CPU {cpu_capability()} ({native}), {torch.get_num_threads()} threads: matmul "
        f"1024x576@576x1536 fp32 {fp32_mm * 1e3:.1f} ms, bf16 autocast {bf16_mm * 1e3:.1f} ms "
        f"(bf16/fp32 {bf16_mm / fp32_mm:.2f}x)"
    )
    print(
        f"{preset} ({mode}, batch {batch_size}) step: fp32 {fp32:.2f} s, bf16 autocast "
        f"{bf16:.2f} s (fp32/bf16 {fp32 / bf16:.2f}x); auto -> {auto}: "
        f"{other / chosen:.2f}x the other path's speed"
    )


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_probe(method: str, preset: str, steps: int, batch_size: int) -> None:
    """Runs in a fresh process: train `steps` steps of `method` and print the memory training
    adds (MB): on a GPU the peak allocated, on CPU the peak RSS (sampled every 5 ms) above the
    RSS with the model loaded."""
    from unlearn.methods import get_method
    from unlearn.models.loading import load_model
    from unlearn.training.loop import TrainLoop

    tokenizer, examples = examples_for(preset)
    model, _ = load_model(preset)
    cuda = torch.cuda.is_available()
    if cuda:
        model = model.cuda()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
    else:
        before = rss_mb()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    if not cuda:
        sampler.start()
    loop = TrainLoop(
        model,
        get_method(method),
        examples[: steps * batch_size],
        [],
        config_for(preset, batch_size),
        tokenizer.pad_token_id,
    )
    loop.run()
    done.set()
    if cuda:
        peak[0] = torch.cuda.max_memory_allocated() / 2**20
    else:
        sampler.join()
        peak[0] = max(peak[0], rss_mb())
    print(json.dumps({"added_mb": peak[0] - before}))


def peak_memory(preset: str, steps: int, batch_size: int) -> None:
    peaks = {}
    for method in ("ga", "npo"):
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                MEMORY_PROBE,
                method,
                "--preset",
                preset,
                "--steps",
                str(steps),
                "--batch-size",
                str(batch_size),
                "--threads",
                str(torch.get_num_threads()),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        peaks[method] = json.loads(output.strip().splitlines()[-1])["added_mb"]
    where = "GPU peak allocated" if torch.cuda.is_available() else "peak RSS"
    mode = "full" if preset == "tiny" else "LoRA"
    print(
        f"{preset} ({mode}) memory added by training ({where} above the loaded model): GA {peaks['ga']:,.0f} MB, NPO {peaks['npo']:,.0f} MB, "
        f"NPO/GA {peaks['npo'] / peaks['ga']:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", choices=(*PRESETS, "all"), default="all")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (1 is fastest on a shared machine)"
    )
    parser.add_argument(
        "--precision-only",
        action="store_true",
        help="only the fp32 vs bf16-autocast step and matmul comparison",
    )
    parser.add_argument(MEMORY_PROBE, dest="probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    presets = PRESETS if args.preset == "all" else (args.preset,)
    if args.probe:
        memory_probe(args.probe, presets[0], args.steps, args.batch_size)
        return
    for preset in presets:
        precision_paths(preset, min(args.steps, 3), args.batch_size, args.repeats)
        if args.precision_only:
            continue
        throughput(preset, args.steps, args.batch_size, args.repeats)
        peak_memory(preset, min(args.steps, 5), args.batch_size)


if __name__ == "__main__":
    main()
