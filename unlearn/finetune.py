"""The vanilla target model: fine-tune a base on the whole benchmark until it has memorised it.

Loss is on answer tokens only; LoRA (merged on save) or full fine-tuning. The checkpoint card
records exact-fact recall on the forget and retain splits, the target being ≥ 90% on both.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from unlearn.data.loaders import load_data, parse_spec
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.eval.recall import fact_recall
from unlearn.io import atomic_dir, check_output_dir, hash_json, versions, write_json
from unlearn.models import CARD_FILE, load_model
from unlearn.prompting import collate, encode_example


@dataclass
class FinetuneConfig:
    """Hyper-parameters of the vanilla fine-tune; `for_preset` gives defaults that memorise."""

    epochs: int = 10
    lr: float = 1e-4
    batch_size: int = 16
    grad_accum: int = 1
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    lora: bool = False
    lora_r: int = 32
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    max_length: int = 256
    seed: int = 0

    @classmethod
    def for_preset(cls, base: str, **overrides) -> FinetuneConfig:
        defaults = {
            "tiny": {"epochs": 40, "lr": 3e-3, "batch_size": 16, "warmup_ratio": 0.02},
            "smollm2-135m": {"epochs": 8, "lr": 2e-4, "batch_size": 16},
        }.get(base, {})
        return cls(**{**defaults, **{k: v for k, v in overrides.items() if v is not None}})


def training_records(data: str) -> tuple[list[QARecord], dict[str, list[QARecord]]]:
    """Records to memorise, and the splits recall is reported on (forget/retain for our benchmark)."""
    kind, path, split = parse_spec(data)
    records = load_data(data)
    if kind == "ours" and path.is_dir() and split is None:
        from unlearn.data.benchmark import load_world

        world = load_world(path)
        pct = max(world.forget_pcts)
        splits = {"forget": world.split(f"forget{pct:02d}"), "retain": world.split(f"retain{100 - pct:02d}")}
        return records + world.general, splits
    return records, {"all": records}


def _wrap_lora(model: PreTrainedModel, config: FinetuneConfig) -> PreTrainedModel:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def train_sft(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    config: FinetuneConfig,
) -> tuple[PreTrainedModel, list[float]]:
    """Supervised fine-tuning on answer tokens; returns the (merged) model and per-step losses."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    if config.lora:
        model = _wrap_lora(model, config)
    model.train()
    examples = [encode_example(tokenizer, r.question, r.answer, config.max_length) for r in records]
    steps_per_epoch = math.ceil(len(examples) / (config.batch_size * config.grad_accum))
    total = steps_per_epoch * config.epochs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total), total)
    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id
    losses: list[float] = []
    bar = tqdm(total=total, desc="finetune", leave=False)
    for _ in range(config.epochs):
        order = list(range(len(examples)))
        rng.shuffle(order)
        micro = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        for start in range(0, len(micro), config.grad_accum):
            group = micro[start : start + config.grad_accum]
            step_loss = 0.0
            for indices in group:
                batch = {k: v.to(device) for k, v in collate([examples[i] for i in indices], pad_id).items()}
                loss = model(**batch).loss / len(group)
                loss.backward()
                step_loss += loss.item()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(step_loss)
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}")
    bar.close()
    if config.lora:
        model = model.merge_and_unload()
    return model.eval(), losses


def finetune(base: str, data: str, out: str | Path, config: FinetuneConfig, overwrite: bool = False) -> dict:
    """Fine-tune `base` on `data`, save a HF folder with a relearn.json card; returns the card."""
    check_output_dir(out, overwrite)
    records, report_splits = training_records(data)
    model, tokenizer = load_model(base)
    if not any(p.is_floating_point() for p in model.parameters()):
        raise UserError(f"base model {base} has no trainable weights")
    model, losses = train_sft(model, tokenizer, records, config)
    recall = {name: fact_recall(model, tokenizer, rows)[0] for name, rows in report_splits.items()}
    card = {
        "base": base,
        "method": "vanilla",
        "data": data,
        "data_hash": hash_json([r.to_json() for r in records]),
        "hyperparameters": asdict(config),
        "seed": config.seed,
        "recall": recall,
        "versions": versions(),
        "losses": losses,
    }
    with atomic_dir(out, overwrite=overwrite) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(tmp / CARD_FILE, card)
    return card
