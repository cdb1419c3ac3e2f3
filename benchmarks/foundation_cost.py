"""Cost of the foundation: SmolLM2 GGUF conversion and one fine-tuning step (LoRA vs full).

Each measurement runs in a fresh subprocess so its peak resident memory is its own.
Run: python benchmarks/foundation_cost.py [--skip-smollm2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap

CONVERT = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from unlearn.models.gguf import convert_gguf, smollm2_gguf_path
    start = time.perf_counter()
    convert_gguf(smollm2_gguf_path(), Path(sys.argv[1]) / "smollm2", overwrite=True)
    size = sum(p.stat().st_size for p in (Path(sys.argv[1]) / "smollm2").rglob("*"))
    print(json.dumps({"seconds": time.perf_counter() - start, "folder_mb": size / 2**20,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")

STEP = textwrap.dedent("""
    import json, resource, sys, time, torch
    from unlearn.training.lora import wrap_lora
    from unlearn.training.config import TrainConfig
    from unlearn.models.loading import load_model
    preset, lora, batch, length = sys.argv[1], sys.argv[2] == "lora", int(sys.argv[3]), int(sys.argv[4])
    torch.manual_seed(0)
    model, _ = load_model(preset)
    if lora:
        model = wrap_lora(model, TrainConfig(lora=True))
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    ids = torch.randint(10, model.config.vocab_size, (batch, length))
    def step():
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad(set_to_none=True)
    step()  # warm-up
    times = []
    for _ in range(3):
        start = time.perf_counter(); step(); times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": sorted(times)[1], "trainable_m": sum(p.numel() for p in params) / 1e6,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def run(code: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-smollm2", action="store_true")
    args = parser.parse_args()
    presets = [("tiny", 16, 128)] + ([] if args.skip_smollm2 else [("smollm2-135m", 8, 64)])
    if not args.skip_smollm2:
        with tempfile.TemporaryDirectory() as tmp:
            conversion = run(CONVERT, tmp)
        print(
            f"SmolLM2 GGUF -> safetensors: {conversion['seconds']:.1f} s, "
            f"peak RSS {conversion['peak_rss_mb']:.0f} MB, folder {conversion['folder_mb']:.0f} MB"
        )
    for preset, batch, length in presets:
        full = run(STEP, preset, "full", str(batch), str(length))
        lora = run(STEP, preset, "lora", str(batch), str(length))
        print(
            f"{preset} step at {batch}x{length} tokens: full {full['seconds']:.2f} s "
            f"({full['trainable_m']:.1f}M trainable, peak {full['peak_rss_mb']:.0f} MB) | "
            f"LoRA {lora['seconds']:.2f} s ({lora['trainable_m']:.2f}M trainable, "
            f"peak {lora['peak_rss_mb']:.0f} MB) | LoRA/full time ratio {lora['seconds'] / full['seconds']:.2f}"
        )


if __name__ == "__main__":
    main()
