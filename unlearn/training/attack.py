"""The one relearning attack: fine-tune a copy of a checkpoint on forget facts, then ask again.

Both callers run it: the eval's robustness check (`unlearn eval --relearn-steps`: full-batch steps
on one half of the forget set, scored on the other half) and the erasure probe of relearn-interp
(`relearn_interp.erasure.relearning`: batches drawn from one half, and its retain-only control).
Training is the vanilla fine-tune's loop (`train_sft`: answer-token cross-entropy, AdamW, no
warm-up) on a float32 copy, so the attacked model never shares weights with the one it came from.

The learning rate defaults to a tenth of the base preset's fine-tuning rate (`default_relearn_lr`:
at the full rate, a few steps on half the forget set already damage the other half on the tiny
preset).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.models.card import lineage
from unlearn.presets import PRESETS
from unlearn.training.finetune import FinetuneConfig, train_sft

RELEARN_LR_FACTOR = 0.1


def split_halves(records: list[QARecord], seed: int) -> tuple[list[QARecord], list[QARecord]]:
    """A seeded shuffle cut in two: the half the attacker trains on, and the held-out half."""
    if len(records) < 2:
        raise UserError("the relearning attack needs at least 2 forget records")
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    cut = len(order) // 2
    return [records[i] for i in sorted(order[:cut])], [records[i] for i in sorted(order[cut:])]


def default_relearn_lr(path: str | Path) -> float:
    """A tenth of the fine-tuning rate of the lineage's base preset (FinetuneConfig default otherwise)."""
    preset = next((c for c, _ in lineage(path) if c in PRESETS), None)
    return FinetuneConfig.for_preset(preset or "").lr * RELEARN_LR_FACTOR


def relearn(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    mixed_precision: str = "no",
) -> tuple[PreTrainedModel, list[float]]:
    """A fine-tuned float32 copy of `model` and its step losses: `epochs` passes over `records`
    in batches of `batch_size` (one optimizer step each, in the loop's seeded order), the
    learning rate decaying linearly from `lr` with no warm-up. The eval passes the whole half as one batch for as many
    epochs as steps; the erasure probe one epoch over its prepared stream of batches."""
    if not records:
        raise UserError("the relearning attack needs records to train on; got none")
    config = FinetuneConfig(
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        warmup_ratio=0.0,
        seed=seed,
        mixed_precision=mixed_precision,
        general_facts=False,
    )
    return train_sft(copy.deepcopy(model).float(), tokenizer, records, config)
