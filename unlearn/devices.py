"""`--device`: parsed and checked before anything loads, and verified on the loaded model.

An unknown or unavailable device is one line (UserError) instead of a RuntimeError deep inside
torch, and `check_on_device` catches a loader that kept a model elsewhere than asked (the
TransformerLens bridge records, but does not apply, a device given with an already built model).
The availability probes are module functions so tests can fake a machine with or without CUDA.
"""

from __future__ import annotations

import torch
from torch import nn

from unlearn.errors import UserError

KNOWN_TYPES = ("cpu", "cuda", "mps")


def cuda_device_count() -> int:
    """CUDA devices this process can use (0 without CUDA)."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def default_device() -> torch.device:
    """cuda when available, else cpu."""
    return torch.device("cuda" if cuda_device_count() else "cpu")


def resolve_device(text: str | torch.device | None, flag: str = "--device") -> torch.device:
    """The device `text` names (default: cuda when available), refused in one line when this
    machine has no such device."""
    if text is None:
        return default_device()
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError):
        raise UserError(f"{flag} {text!r} is not a device; give cpu, cuda, cuda:N or mps") from None
    if device.type not in KNOWN_TYPES:
        raise UserError(f"{flag} {text}: unsupported device type; give cpu, cuda, cuda:N or mps")
    if device.type == "cuda":
        count = cuda_device_count()
        if not count:
            raise UserError(f"{flag} {text}: CUDA is not available on this machine; use cpu")
        if device.index is not None and device.index >= count:
            raise UserError(
                f"{flag} {text}: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1})"
            )
    if device.type == "mps" and not mps_available():
        raise UserError(f"{flag} {text}: MPS is not available on this machine; use cpu")
    return device


def same_device(actual: torch.device, wanted: torch.device) -> bool:
    """`cuda` matches any cuda:N's type; `cuda:1` needs index 1 (cuda means the current one)."""
    if actual.type != wanted.type:
        return False
    if wanted.index is None or actual.index is None:
        return True
    return actual.index == wanted.index


def check_on_device(model: nn.Module, wanted: torch.device, what: str) -> None:
    """Refuse a model whose parameters are not all on the requested device."""
    for name, parameter in model.named_parameters():
        if not same_device(parameter.device, wanted):
            raise UserError(
                f"{what} was loaded with {name} on {parameter.device}, not on the requested "
                f"--device {wanted}; report this with the checkpoint's architecture"
            )
