"""LoRA for the training loop: wrap every linear layer, and merge the adapter into plain weights
for saving without disturbing the live model."""

from __future__ import annotations

import torch
from torch import Tensor
from transformers import PreTrainedModel

from unlearn.training.config import TrainConfig

LORA_ADAPTER = "default"


def wrap_lora(model: PreTrainedModel, config: TrainConfig) -> PreTrainedModel:
    """LoRA on every linear layer except lm_head (peft's "all-linear")."""
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


@torch.no_grad()
def merged_state_dict(peft_model: torch.nn.Module) -> dict[str, Tensor]:
    """The base model's weights with each LoRA delta added, computed out of place so that
    training can go on (merge-then-unmerge would perturb the base weights by rounding)."""
    from peft.tuners.lora import LoraLayer

    base = peft_model.get_base_model()
    deltas = {
        f"{name}.base_layer.weight": module.get_delta_weight(LORA_ADAPTER)
        for name, module in base.named_modules()
        if isinstance(module, LoraLayer) and LORA_ADAPTER in module.lora_A
    }
    merged = {}
    for key, value in base.state_dict().items():
        if ".lora_" in key:
            continue
        if key in deltas:  # built on the CPU: a merged copy of every linear layer can be large
            value = (value + deltas[key].to(value.dtype)).cpu()
        merged[key.replace(".base_layer.", ".")] = value.detach()
    return merged
