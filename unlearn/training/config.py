"""Hyper-parameters of one training run, and the per-preset defaults that unlearn each preset.

Kept apart from the loop (`unlearn.training.loop`) so that the loop, the CLI and the main job
share it without importing each other in a circle; `resolved_precision` settles `auto` mixed
precision for this machine before a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from unlearn.devices import default_device
from unlearn.errors import UserError
from unlearn.methods import get_method
from unlearn.models.card import preset_of
from unlearn.precision import check_mixed_precision, precision_record, resolve_mixed_precision

DTYPE_NAMES = ("float32", "bfloat16", "float16")
KL_POSITIONS = ("answer", "all")

# Per-preset defaults: "*" for every method, then the method family (ga, npo, relearn), then
# "sure" for the *_sure variants (SURE trains few rows, so it takes a larger learning rate).
# Learning rates stay per family; with a forget target (`stop_at_recall`) the stop rule, not the
# number of epochs, sets each method's dose, and `epochs` is only the step cap.
PRESET_DEFAULTS: dict[str, dict[str, dict]] = {
    # Measured on the tiny test benchmark (docs/train.md).
    "tiny": {
        "*": {"epochs": 5, "batch_size": 8, "warmup_ratio": 0.2, "lora": False},
        "ga": {"lr": 5e-4},
        "npo": {"lr": 5e-4},
        "relearn": {"lr": 1.5e-3, "epochs": 4},
        "sure": {"lr": 1.5e-3},
    },
    # Measured on the 10-author benchmark of `relearn-interp reproduce` (docs/train.md).
    "smollm2-135m": {
        "*": {
            "epochs": 5,
            "batch_size": 8,
            "warmup_ratio": 0.2,
            "lora": True,
            # bf16 autocast where the CPU has native bf16 (1.7x faster), fp32 elsewhere
            "mixed_precision": "auto",
        },
        "ga": {"lr": 2e-3},
        "npo": {"lr": 1e-3},
        "relearn": {"lr": 2e-3, "epochs": 2},
        "sure": {"lr": 3e-3},
    },
}


@dataclass
class TrainConfig:
    """Hyper-parameters of one run; `for_preset` gives defaults that unlearn on each preset.

    `batch_size` is the global micro-batch (split across processes); one optimizer step
    takes `grad_accum` micro-batches. Loss weights: `forget_weight` scales the forget-side term
    (GA, NPO, or ReLearn's CE), `retain_weight` CE_r (GDR) and `kl_weight` KL_r (KLR).
    `kl_positions` = "answer" averages KL_r over answer tokens, "all" over every position as
    the reference code does. `max_grad_norm` <= 0 turns gradient clipping off (the reference's
    DeepSpeed runs do not clip). `mixed_precision`: `no` (compute in `dtype`), `bf16` (autocast
    the forward passes) or `auto` (bf16 only where the device runs it natively,
    `unlearn.precision`). `save_every`: optimizer steps between checkpoints (None: once an
    epoch; 0: only at the end).

    Forget target: with `stop_at_recall` set, every `check_every` optimizer steps (0: once an
    epoch) the run measures forget recall (greedy answers, the eval's matcher) and stops at the
    first check at or below the target, keeping that checkpoint; `epochs` (or `max_steps`) is
    the cap, and a run that never reaches the target keeps its best checked step. Once a check
    comes within `check_near_target` of the target, checks come four times as often.
    """

    epochs: int = 5
    lr: float = 1e-4
    batch_size: int = 8
    grad_accum: int = 1
    warmup_ratio: float = 0.2
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    lora: bool = False
    lora_r: int = 32
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    beta: float = 0.1
    forget_weight: float = 1.0
    retain_weight: float = 1.0
    kl_weight: float = 1.0
    kl_positions: str = "answer"
    sure_percentile: float = 99.0
    max_length: int = 256
    dtype: str = "float32"
    mixed_precision: str = "no"
    save_every: int | None = None
    stop_at_recall: float | None = None
    check_every: int = 0
    check_near_target: float = 0.0
    max_steps: int | None = None
    seed: int = 0

    @classmethod
    def for_preset(cls, preset_or_base: str | Path, method: str, **overrides) -> TrainConfig:
        """Defaults for the preset a model descends from (via its cards), then the overrides
        that are not None. The method's family and SURE flag pick the rows (`ga_gdr_sure` → ga,
        sure); an unknown method is a UserError naming the valid ones."""
        chosen = get_method(method)
        table = PRESET_DEFAULTS.get(preset_of(preset_or_base) or "", {})
        defaults = {**table.get("*", {}), **table.get(chosen.family, {})}
        if chosen.sure:
            defaults.update(table.get("sure", {}))
        return cls(**{**defaults, **{k: v for k, v in overrides.items() if v is not None}})

    def check(self) -> None:
        """Reject values that cannot train, naming the field."""
        positive = {
            "epochs": self.epochs,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "grad_accum": self.grad_accum,
            "beta": self.beta,
            "lora_r": self.lora_r,
            "max_length": self.max_length,
        }
        for name, value in positive.items():
            if not value > 0:
                raise UserError(f"{name} must be positive, got {value}")
        if not 0 <= self.warmup_ratio <= 1:
            raise UserError(f"warmup_ratio must be in [0, 1], got {self.warmup_ratio}")
        if self.kl_positions not in KL_POSITIONS:
            raise UserError(
                f"kl_positions {self.kl_positions!r} is not one of {', '.join(KL_POSITIONS)}"
            )
        if not 0 < self.sure_percentile < 100:
            raise UserError(f"sure_percentile must be in (0, 100), got {self.sure_percentile}")
        if self.dtype not in DTYPE_NAMES:
            raise UserError(f"dtype {self.dtype!r} is not one of {', '.join(DTYPE_NAMES)}")
        check_mixed_precision(self.mixed_precision, "mixed_precision")
        if self.save_every is not None and self.save_every < 0:
            raise UserError(f"save_every must be >= 0, got {self.save_every}")
        if self.stop_at_recall is not None and not 0 <= self.stop_at_recall < 1:
            raise UserError(
                f"stop_at_recall (the forget-recall target) must be in [0, 1), got {self.stop_at_recall}"
            )
        if not 0 <= self.check_near_target < 1:
            raise UserError(f"check_near_target must be in [0, 1), got {self.check_near_target}")
        if self.check_every < 0:
            raise UserError(f"check_every must be >= 0, got {self.check_every}")
        if self.max_steps is not None and self.max_steps < 1:
            raise UserError(f"max_steps must be >= 1, got {self.max_steps}")


def resolved_precision(config: TrainConfig) -> tuple[TrainConfig, dict]:
    """The config with `auto` resolved for this machine's device, and the card's record of it."""
    device = default_device()
    resolved = resolve_mixed_precision(config.mixed_precision, device)
    record = precision_record(resolved, device, config.mixed_precision, config.dtype)
    return replace(config, mixed_precision=resolved), record
