"""Which arithmetic trains: `auto` mixed precision resolved from the hardware, and its record.

bf16 autocast is ~1.7x faster than fp32 on a CPU with native bf16 (AVX512-BF16 or AMX) but 8-60x
slower on one without (AVX2 only), where PyTorch has no bf16 kernels to call; fp16 compute is slow
on every CPU. `auto` therefore uses bf16 only where the device runs it natively: such a CPU, or a
CUDA device for which `torch.cuda.is_bf16_supported()`. Every checkpoint card and results file
records what was resolved (`precision_record`), so a reader knows which arithmetic made a number.
"""

from __future__ import annotations

import os
import sys

import torch

from unlearn.devices import resolve_device
from unlearn.errors import UserError
from unlearn.presets import MIXED_PRECISION

_warned: set[str] = set()

# oneDNN ISA caps (ONEDNN_MAX_CPU_ISA) below AVX512_CORE_BF16: bf16 matmuls then fall back to
# slow emulation even on a CPU whose flags say AVX512-BF16, exactly as on an AVX2-only CPU.
_ONEDNN_CAPS_WITHOUT_BF16 = {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_CORE", "AVX512_CORE_VNNI"}


def onednn_isa_cap() -> str | None:
    """The oneDNN ISA cap set in the environment (ONEDNN_MAX_CPU_ISA, or DNNL_MAX_CPU_ISA)."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    return cap.strip().upper() if cap else None


def cpu_capability() -> str:
    """The CPU's vector instruction set as PyTorch dispatches it (e.g. AVX2, AVX512)."""
    return torch.backends.cpu.get_cpu_capability()


def native_bf16(device: str | torch.device) -> bool:
    """Whether `device` computes bf16 matmuls in hardware (CPU: AVX512-BF16 or AMX, and no oneDNN
    ISA cap below AVX512_CORE_BF16)."""
    device = resolve_device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        if onednn_isa_cap() in _ONEDNN_CAPS_WITHOUT_BF16:
            return False
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False  # other backends (mps, xpu): fp32 unless asked for bf16 explicitly


def check_mixed_precision(value: str, name: str = "mixed precision") -> None:
    """One line naming the setting when `value` is not auto, no or bf16."""
    if value not in MIXED_PRECISION:
        raise UserError(f"{name} {value!r} is not one of {', '.join(MIXED_PRECISION)}")


def resolve_mixed_precision(requested: str, device: str | torch.device) -> str:
    """`auto` → `bf16` where `device` runs bf16 natively, else `no` (fp32). An explicit `bf16`
    without native support is kept, after one warning line a process that says what it costs."""
    check_mixed_precision(requested)
    native = native_bf16(device)
    if requested == "auto":
        return "bf16" if native else "no"
    device = resolve_device(device)
    if requested == "bf16" and not native and device.type not in _warned:
        _warned.add(device.type)
        where = f"this CPU ({cpu_capability()})" if device.type == "cpu" else device.type
        print(
            f"warning: bf16 autocast on {where} without native bf16 runs many times (8-60x) "
            "slower than fp32; use --mixed-precision auto or no",
            file=sys.stderr,
        )
    return requested


def precision_record(
    mixed_precision: str = "no",
    device: str | torch.device = "cpu",
    requested: str | None = None,
    dtype: str = "float32",
) -> dict:
    """What results and cards record of the arithmetic: the weights' dtype, the resolved autocast
    (`no` = compute in the weights' dtype), what was asked for, and the hardware that decided."""
    device = resolve_device(device)
    return {
        "dtype": dtype,
        "mixed_precision": mixed_precision,
        "requested": requested or mixed_precision,
        "device": device.type,
        "cpu_capability": cpu_capability(),
        "onednn_isa_cap": onednn_isa_cap(),
        "native_bf16": native_bf16(device),
    }


def model_precision(model: torch.nn.Module) -> dict:
    """The record for a model run as loaded, without autocast (the analyses and the eval)."""
    weight = next(model.parameters())
    return precision_record("no", weight.device, "no", str(weight.dtype).removeprefix("torch."))


def describe(record: dict) -> str:
    """One line for a report or a terminal, e.g. 'float32 weights, bf16 autocast (asked: auto;
    cpu, CPU AVX512, native bf16)'."""
    dtype = record.get("dtype", "?")
    autocast = "bf16 autocast" if record.get("mixed_precision") == "bf16" else "no autocast"
    asked = record.get("requested")
    asked_text = f"asked: {asked}; " if asked and asked != record.get("mixed_precision") else ""
    native = "native bf16" if record.get("native_bf16") else "no native bf16"
    cap = f", oneDNN capped at {record['onednn_isa_cap']}" if record.get("onednn_isa_cap") else ""
    return (
        f"{dtype} weights, {autocast} ({asked_text}{record.get('device', '?')}, "
        f"CPU {record.get('cpu_capability', '?')}{cap}, {native})"
    )
