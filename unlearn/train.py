"""The one training loop, on accelerate: every unlearning method and the vanilla fine-tune.

`train(...)` (and `unlearn train`) unlearns a checkpoint: it pairs each forget item (or ReLearn
row) with a retain item drawn with the seed, optimises the method's loss with AdamW and a linear
schedule, and writes checkpoints that any tool loads. `TrainLoop` is the loop itself;
`unlearn.finetune.train_sft` runs it with the `sft` objective.

Reliability: checkpoints replace the output folder atomically (never half-written); a NaN/inf
loss or gradient stops the run before the update and keeps the last good checkpoint; Ctrl-C
saves the last completed step; `resume=True` continues from a checkpoint to the same weights as
an uninterrupted run (data order comes from (seed, epoch) and dropout is reseeded from
(seed, step, rank), so only optimizer and schedule state need saving).

Several processes (`accelerate launch`): `batch_size` is the global micro-batch, split evenly
across processes, and losses are normalised by the global token/sequence counts, so the
gradient is the single-process one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from accelerate import Accelerator, DistributedType
from jaxtyping import Float
from torch import Tensor
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from unlearn.data.loaders import load_data
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import atomic_dir, check_output_dir, hash_json, versions, write_json, write_text
from unlearn.methods import SFT, Method, compute_terms, get_method
from unlearn.methods.batch import TokenBatch
from unlearn.methods.relearn import load_relearn_pairs
from unlearn.methods.sure import mask_gradients, saliency_masks
from unlearn.models import (
    CARD_FILE,
    PRESETS,
    adapter_base,
    is_adapter,
    load_model,
    read_card,
    resolve_model,
)
from unlearn.prompting import IGNORE_INDEX, Example, encode_example

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
KL_POSITIONS = ("answer", "all")
MIXED_PRECISION = ("no", "bf16")
ADAPTER_DIR = "adapter"
RESUME_FILE = "resume/state.pt"
LOG_FILE = "train_log.jsonl"
LORA_ADAPTER = "default"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")

# Per-preset defaults: "*" for every method, then the method family (ga, npo, relearn), then
# "sure" for the *_sure variants (SURE trains few rows, so it takes a larger learning rate).
PRESET_DEFAULTS: dict[str, dict[str, dict]] = {
    # Measured on the tiny test benchmark (docs/train.md): forget recall -> ~0.1-0.2, retain >= 0.85.
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
            "mixed_precision": "bf16",
        },
        "ga": {"lr": 2e-3},
        "npo": {"lr": 1e-3},
        "relearn": {"lr": 2e-3, "epochs": 1},
        "sure": {"lr": 4e-3},
    },
}


@dataclass
class TrainConfig:
    """Hyper-parameters of one run; `for_preset` gives defaults that unlearn on each preset.

    `batch_size` is the global micro-batch (split across processes); one optimizer step
    takes `grad_accum` micro-batches. Loss weights: `forget_weight` scales the forget-side term
    (GA, NPO, or ReLearn's CE), `retain_weight` CE_r (GDR) and `kl_weight` KL_r (KLR).
    `kl_positions` = "answer" averages KL_r over answer tokens, "all" over every position as
    the reference code does. `save_every`: optimizer steps between checkpoints (None: once an
    epoch; 0: only at the end).
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
    seed: int = 0

    @classmethod
    def for_preset(cls, preset_or_base: str | Path, method: str, **overrides) -> TrainConfig:
        """Defaults for the preset a model descends from (via its cards), then the overrides
        that are not None."""
        chosen = get_method(method) if method != SFT.name else SFT
        table = PRESET_DEFAULTS.get(preset_of(preset_or_base) or "", {})
        defaults = {**table.get("*", {}), **table.get(method.split("_")[0], {})}
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
        if self.dtype not in DTYPES:
            raise UserError(f"dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.mixed_precision not in MIXED_PRECISION:
            raise UserError(
                f"mixed_precision {self.mixed_precision!r} is not one of {', '.join(MIXED_PRECISION)}"
            )
        if self.save_every is not None and self.save_every < 0:
            raise UserError(f"save_every must be >= 0, got {self.save_every}")


def preset_of(spec: str | Path) -> str | None:
    """The preset a model descends from, following relearn.json `base` and adapter bases."""
    text, seen = str(spec), set()
    while text not in PRESETS and text not in seen:
        seen.add(text)
        path = Path(text)
        if not path.is_dir():
            return None
        text = str(read_card(path).get("base") or (adapter_base(path) if is_adapter(path) else ""))
    return text if text in PRESETS else None


class TrainingDiverged(UserError):
    """The loss or gradient became NaN/inf: the run stopped before applying that update."""


def epoch_pairs(n_items: int, n_retain: int, seed: int, epoch: int) -> list[tuple[int, int | None]]:
    """Item order of one epoch, each paired with a retain index drawn with the seed."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(n_items))
    rng.shuffle(order)
    return [(i, rng.randrange(n_retain) if n_retain else None) for i in order]


def answer_token_count(example: Example) -> int:
    """Answer tokens a loss averages over (a label at position 0 predicts nothing)."""
    return sum(label != IGNORE_INDEX for label in example.labels[1:])


def add_gradients(
    total: list[Tensor | None] | None, grads: Sequence[Tensor | None]
) -> list[Tensor | None]:
    """Sum gradients over micro-batches (None: the parameter got no gradient)."""
    if total is None:
        return list(grads)
    return [
        a if b is None else b if a is None else a + b for a, b in zip(total, grads, strict=True)
    ]


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


class Reference:
    """The frozen model unlearning starts from: a copy for full fine-tuning; for LoRA, the
    trainable model itself with its adapter switched off (no second copy in memory)."""

    def __init__(
        self,
        accelerator: Accelerator,
        frozen: PreTrainedModel | None = None,
        lora_model: torch.nn.Module | None = None,
    ):
        self.accelerator = accelerator
        self.frozen = (
            frozen.to(accelerator.device).eval().requires_grad_(False)
            if frozen is not None
            else None
        )
        self.lora_model = lora_model

    @torch.no_grad()
    def __call__(self, batch: TokenBatch) -> Float[Tensor, "batch pos vocab"]:
        if self.frozen is not None:
            return self.frozen(**batch.model_inputs(), use_cache=False).logits
        model = self.accelerator.unwrap_model(self.lora_model)
        was_training = model.training
        model.eval()
        try:
            with model.disable_adapter():
                return model(**batch.model_inputs(), use_cache=False).logits
        finally:
            model.train(was_training)


class TrainLoop:
    """Optimizer, schedule, data order and progress of one run; `run` trains to the end.

    `items` are the forget-side examples (forget set, ReLearn rows, or SFT records), `retain`
    the retain examples paired with them. `reference` is the frozen starting model for a
    full-fine-tuning run that resumes from later weights (default: a copy of `model`).
    """

    def __init__(
        self,
        model: PreTrainedModel,
        method: Method,
        items: list[Example],
        retain: list[Example],
        config: TrainConfig,
        pad_id: int,
        accelerator: Accelerator | None = None,
        reference: PreTrainedModel | None = None,
    ):
        config.check()
        self.accelerator = accelerator or Accelerator()
        if config.batch_size < self.accelerator.num_processes:
            raise UserError(
                f"batch size {config.batch_size} is smaller than the "
                f"{self.accelerator.num_processes} processes; raise --batch-size"
            )
        if method.needs_retain and not retain:
            raise UserError(f"method {method.name} needs retain data (--retain)")
        self.method, self.items, self.retain, self.config, self.pad_id = (
            method,
            items,
            retain,
            config,
            pad_id,
        )
        torch.manual_seed(config.seed)
        frozen = None
        if method.needs_reference and not config.lora:
            frozen = reference if reference is not None else copy.deepcopy(model)
        if config.lora:
            model = wrap_lora(model, config)
        model.config.use_cache = False
        model.train()
        trainable = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
        self.model, self.optimizer = self.accelerator.prepare(model, optimizer)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        # Optimizer state is saved by the main process: complete unless it is sharded.
        self.sharded_optimizer = self.accelerator.distributed_type in (
            DistributedType.DEEPSPEED,
            DistributedType.FSDP,
        )
        micro_batches = math.ceil(len(items) / config.batch_size)
        self.steps_per_epoch = math.ceil(micro_batches / config.grad_accum)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.scheduler = get_linear_schedule_with_warmup(
            optimizer, round(config.warmup_ratio * self.total_steps), self.total_steps
        )
        self.reference = None
        if method.needs_reference:
            self.reference = Reference(
                self.accelerator, frozen=frozen, lora_model=self.model if config.lora else None
            )
        self.step = 0
        self.log: list[dict] = []
        self.updating = False
        self._epoch_cache: tuple[int, list] = (-1, [])

    # -- data -------------------------------------------------------------------------------

    def _groups(self, epoch: int) -> list[list[list[tuple[int, int | None]]]]:
        """Optimizer steps of an epoch, each a list of global micro-batches of (item, retain)."""
        if self._epoch_cache[0] != epoch:
            n_retain = len(self.retain) if self.method.needs_retain else 0
            pairs = epoch_pairs(len(self.items), n_retain, self.config.seed, epoch)
            size, accum = self.config.batch_size, self.config.grad_accum
            micro = [pairs[i : i + size] for i in range(0, len(pairs), size)]
            self._epoch_cache = (epoch, [micro[i : i + accum] for i in range(0, len(micro), accum)])
        return self._epoch_cache[1]

    def _batches(self, micro: list[tuple[int, int | None]]) -> tuple[TokenBatch, TokenBatch | None]:
        """This process's share of a global micro-batch (padded by cycling to split evenly)."""
        processes, rank = self.accelerator.num_processes, self.accelerator.process_index
        share = math.ceil(len(micro) / processes)
        micro = (micro * processes)[: share * processes]
        mine = micro[rank * share : (rank + 1) * share]
        device = self.accelerator.device

        def build(examples: list[Example], mine_examples: list[Example]) -> TokenBatch:
            tokens = sum(answer_token_count(e) for e in examples)
            return TokenBatch.build(
                mine_examples,
                self.pad_id,
                max(1, tokens) / processes,
                len(examples) / processes,
                device,
            )

        forget = build([self.items[i] for i, _ in micro], [self.items[i] for i, _ in mine])
        if not self.method.needs_retain:
            return forget, None
        retain = build([self.retain[j] for _, j in micro], [self.retain[j] for _, j in mine])
        return forget, retain

    # -- one optimizer step -------------------------------------------------------------------

    def _policy(self, batch: TokenBatch) -> Float[Tensor, "batch pos vocab"]:
        return self.model(**batch.model_inputs(), use_cache=False).logits

    def _autocast(self) -> torch.autocast:
        """bf16 autocast for the forward passes when `mixed_precision` asks for it (weights,
        gradients and optimizer state stay in their dtype); ~1.7x faster on CPUs with bf16 units."""
        return torch.autocast(
            self.accelerator.device.type,
            dtype=torch.bfloat16,
            enabled=self.config.mixed_precision == "bf16",
        )

    def _train_step(self, group: list[list[tuple[int, int | None]]]) -> dict[str, float]:
        """Accumulate the group's gradients, guard against divergence, apply SURE, update."""
        # Dropout (LoRA) is reseeded per step and rank, so a resumed run draws the same masks.
        torch.manual_seed(
            self.config.seed * 1_000_003 + self.step * 1009 + self.accelerator.process_index
        )
        sums: dict[str, Tensor] = {}
        forget_grads: list[Tensor | None] | None = None
        for index, micro in enumerate(group):
            forget, retain = self._batches(micro)
            last = index == len(group) - 1
            with contextlib.nullcontext() if last else self.accelerator.no_sync(self.model):
                with self._autocast():
                    terms = compute_terms(
                        self.method, self._policy, self.reference, forget, retain, self.config
                    )
                scale = 1.0 / len(group)
                if self.method.sure:
                    grads = torch.autograd.grad(
                        terms.forget * scale, self.params, retain_graph=True, allow_unused=True
                    )
                    forget_grads = add_gradients(forget_grads, grads)
                self.accelerator.backward(terms.total * scale)
            for name, value in {"loss": terms.total, **terms.parts}.items():
                sums[name] = sums.get(name, 0.0) + value.detach().float() * scale
        names = list(sums)
        reduced = self.accelerator.reduce(torch.stack([sums[n] for n in names]), "mean")
        row: dict[str, float] = dict(zip(names, reduced.tolist(), strict=True))
        if not math.isfinite(row["loss"]):
            raise TrainingDiverged(f"the loss became {row['loss']} at step {self.step + 1}")
        if forget_grads is not None:
            if self.accelerator.num_processes > 1:
                forget_grads = [
                    g if g is None else self.accelerator.reduce(g, "mean") for g in forget_grads
                ]
            masks = saliency_masks(forget_grads, self.config.sure_percentile)
            mask_gradients(self.params, masks)
            row["salient_rows"] = int(sum(int(m.sum()) for m in masks if m is not None))
        norm = self.accelerator.clip_grad_norm_(self.params, self.config.max_grad_norm)
        grad_norm = float(norm) if norm is not None else None  # DeepSpeed clips inside its engine
        if grad_norm is not None and not math.isfinite(grad_norm):
            raise TrainingDiverged(f"the gradient norm became {grad_norm} at step {self.step + 1}")
        row.update(lr=self.scheduler.get_last_lr()[0], grad_norm=grad_norm)
        self.updating = True
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.updating = False
        return row

    def run(
        self, on_step: Callable[[TrainLoop], None] | None = None, desc: str | None = None
    ) -> list[dict]:
        """Train to the last step (from `self.step` when resumed); returns the per-step log."""
        bar = tqdm(
            total=self.total_steps,
            initial=self.step,
            unit="step",
            desc=desc or self.method.name,
            leave=False,
            disable=not self.accelerator.is_main_process,
        )
        started = time.perf_counter()
        while self.step < self.total_steps:
            epoch, position = divmod(self.step, self.steps_per_epoch)
            row = self._train_step(self._groups(epoch)[position])
            row = {
                "step": self.step,
                "epoch": epoch,
                **row,
                "elapsed_s": round(time.perf_counter() - started, 3),
            }
            self.log.append(row)
            bar.update(1)
            bar.set_postfix(loss=f"{row['loss']:.4f}")
            if on_step is not None:
                on_step(self)
        bar.close()
        return self.log

    # -- results and state ------------------------------------------------------------------------

    @property
    def losses(self) -> list[float]:
        return [row["loss"] for row in self.log]

    def trained_model(self) -> PreTrainedModel:
        """The trained model as a plain causal LM (LoRA merged), in eval mode."""
        model = self.accelerator.unwrap_model(self.model)
        if self.config.lora:
            model = model.merge_and_unload()
        model.config.use_cache = True
        return model.eval()

    def state_dict(self) -> dict:
        """What resuming needs besides the weights: optimizer, schedule, step and log."""
        state = {
            "step": self.step,
            "total_steps": self.total_steps,
            "log": self.log,
            "scheduler": self.scheduler.state_dict(),
        }
        if not self.sharded_optimizer:
            state["optimizer"] = self.optimizer.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        if state["total_steps"] != self.total_steps:
            raise UserError(
                f"the checkpoint was made for {state['total_steps']} steps, this run has "
                f"{self.total_steps}; resume with the same data and settings"
            )
        if "optimizer" in state and not self.sharded_optimizer:
            self.optimizer.load_state_dict(state["optimizer"])
        else:
            warnings.warn(
                "resuming without optimizer state (sharded runs do not save it): AdamW's "
                "moments restart from zero",
                stacklevel=2,
            )
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.log = state["step"], state["log"]

    def load_adapter(self, folder: Path) -> None:
        """Load trained LoRA weights (from a checkpoint's adapter/) into the wrapped model."""
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        weights = load_file(
            str(folder / "adapter_model.safetensors"), device=str(self.accelerator.device)
        )
        set_peft_model_state_dict(self.accelerator.unwrap_model(self.model), weights)

    def weights_to_save(self) -> dict[str, Tensor] | None:
        """Full (merged) weights on the main process (None elsewhere); every process must call
        it, as gathering sharded weights is collective."""
        if not self.config.lora:
            return self.accelerator.get_state_dict(self.model)
        if self.accelerator.is_main_process:
            return merged_state_dict(self.accelerator.unwrap_model(self.model))
        return None


def fit(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    method: Method,
    items: Sequence[tuple[str, str]],
    config: TrainConfig,
    retain: Sequence[tuple[str, str]] = (),
    desc: str | None = None,
) -> tuple[PreTrainedModel, list[dict]]:
    """Train an in-memory model on (question, answer) pairs without checkpoints; returns the
    trained (merged) model and the per-step log."""
    loop = TrainLoop(
        model,
        method,
        encode_pairs(tokenizer, items, config.max_length),
        encode_pairs(tokenizer, retain, config.max_length),
        config,
        tokenizer.pad_token_id,
    )
    loop.run(desc=desc)
    return loop.trained_model(), loop.log


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase, pairs: Sequence[tuple[str, str]], max_length: int
) -> list[Example]:
    """Tokenize (question, answer) pairs; loss on answer tokens only."""
    return [encode_example(tokenizer, question, answer, max_length) for question, answer in pairs]


# -- the `unlearn train` entry point ------------------------------------------------------------


@dataclass
class TrainData:
    """What a run trains on, with the provenance its card records."""

    items: list[tuple[str, str]]
    retain: list[tuple[str, str]]
    specs: dict[str, str | None]
    hashes: dict[str, str | None]


def load_train_data(
    method: Method, forget: str | Path, retain: str | Path | None, relearn_data: str | Path | None
) -> TrainData:
    """Load the forget, retain and ReLearn data a method needs; warn when forget and retain overlap."""
    forget_records = load_data(str(forget))
    retain_records: list[QARecord] = load_data(str(retain)) if retain else []
    if method.needs_retain and not retain_records:
        raise UserError(f"method {method.name} needs retain data; pass --retain")
    warn_overlap(forget_records, retain_records)
    if method.data == "relearn":
        if not relearn_data:
            raise UserError(
                f"method {method.name} needs ReLearn data; pass --relearn-data (from `unlearn augment`)"
            )
        items = load_relearn_pairs(relearn_data)
    else:
        items = [(r.question, r.answer) for r in forget_records]
    return TrainData(
        items=items,
        retain=[(r.question, r.answer) for r in retain_records],
        specs={
            "forget": str(forget),
            "retain": str(retain) if retain else None,
            "relearn": str(relearn_data) if relearn_data else None,
        },
        hashes={
            "forget": hash_json([r.to_json() for r in forget_records]),
            "retain": hash_json([r.to_json() for r in retain_records]) if retain_records else None,
            "relearn": hash_json(items) if method.data == "relearn" else None,
        },
    )


def warn_overlap(forget: list[QARecord], retain: list[QARecord]) -> int:
    """Warn (with the count) when a forget question is also in the retain set."""
    questions = {r.question.strip().lower() for r in forget}
    shared = sum(r.question.strip().lower() in questions for r in retain)
    if shared:
        warnings.warn(
            f"forget and retain sets overlap: {shared} retain question(s) are also in the "
            "forget set, so the method is asked to forget and keep them at once",
            stacklevel=3,
        )
    return shared


def check_tokenizer(spec: str | Path) -> None:
    """A checkpoint folder must carry its tokenizer (an adapter may rely on its base's)."""
    path = Path(resolve_model(spec))
    if (
        path.is_dir()
        and not is_adapter(path)
        and not any((path / f).is_file() for f in TOKENIZER_FILES)
    ):
        raise UserError(
            f"model folder {path} has no tokenizer ({' or '.join(TOKENIZER_FILES)}); "
            "save the tokenizer beside the weights (tokenizer.save_pretrained)"
        )


def model_reference(spec: str | Path) -> str:
    """How an adapter names its base: a preset or hub id as given, a folder as an absolute path."""
    text = str(spec)
    return text if text in PRESETS or not Path(text).exists() else str(Path(text).resolve())


class CheckpointWriter:
    """Writes the run's checkpoint atomically: merged HF folder, tokenizer, relearn.json card,
    per-step log, LoRA adapter (adapter/), and while incomplete the resume state."""

    def __init__(
        self, out: Path, tokenizer: PreTrainedTokenizerBase, card: dict, save_every: int | None
    ):
        self.out, self.tokenizer, self.card, self.save_every = out, tokenizer, card, save_every
        self.saved_step: int | None = None

    def on_step(self, loop: TrainLoop) -> None:
        every = loop.steps_per_epoch if self.save_every is None else self.save_every
        if loop.step == loop.total_steps or (every and loop.step % every == 0):
            self.save(loop)

    def save(self, loop: TrainLoop, stopped: str | None = None) -> None:
        accelerator = loop.accelerator
        accelerator.wait_for_everyone()
        weights = loop.weights_to_save()
        if accelerator.is_main_process:
            complete = loop.step == loop.total_steps
            card = {
                **self.card,
                "step": loop.step,
                "total_steps": loop.total_steps,
                "complete": complete,
                "stopped": stopped,
                "num_processes": accelerator.num_processes,
                "losses": loop.losses,
            }
            unwrapped = accelerator.unwrap_model(loop.model)
            with atomic_dir(self.out, overwrite=True) as tmp:
                if loop.config.lora:
                    unwrapped.get_base_model().save_pretrained(tmp, state_dict=weights)
                    self._save_adapter(unwrapped, tmp / ADAPTER_DIR)
                else:
                    unwrapped.save_pretrained(tmp, state_dict=weights)
                self.tokenizer.save_pretrained(tmp)
                if not complete:
                    (tmp / RESUME_FILE).parent.mkdir()
                    torch.save(loop.state_dict(), tmp / RESUME_FILE)
                write_text(tmp / LOG_FILE, "".join(json.dumps(row) + "\n" for row in loop.log))
                write_json(tmp / CARD_FILE, card)
        self.saved_step = loop.step
        accelerator.wait_for_everyone()

    def _save_adapter(self, peft_model: torch.nn.Module, folder: Path) -> None:
        peft_model.save_pretrained(folder)
        config_path = folder / "adapter_config.json"
        adapter_config = json.loads(config_path.read_text())
        adapter_config["base_model_name_or_path"] = self.card["model"]
        write_json(config_path, adapter_config)


def _resumable_card(
    out: Path, method: str, config: TrainConfig, data: TrainData, model: str
) -> dict:
    card = read_card(out)
    if not card:
        raise UserError(f"nothing to resume: {out} holds no checkpoint ({CARD_FILE})")
    if card.get("complete"):
        raise UserError(
            f"{out} is a finished run; nothing to resume (use --overwrite to train again)"
        )
    if not (out / RESUME_FILE).is_file():
        raise UserError(f"{out} has no resume state ({RESUME_FILE})")
    expected = {
        "method": method,
        "model": model,
        "hyperparameters": asdict(config),
        "data_hash": data.hashes,
    }
    differing = [key for key, value in expected.items() if card.get(key) != value]
    if differing:
        raise UserError(
            f"cannot resume {out}: its {', '.join(differing)} differ from this run's; "
            "pass the same method, model, data and settings"
        )
    return card


def train(
    method: str,
    model: str | Path,
    forget: str | Path,
    retain: str | Path | None,
    out: str | Path,
    config: TrainConfig,
    relearn_data: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
) -> dict:
    """Unlearn `model` with `method` and write the checkpoint to `out`; returns its card.

    Data are specs (`ours:DIR#split`, `tofu:PATH`, ...); `relearn_data` is the JSONL from
    `unlearn augment` (or any QA spec). `resume=True` continues the incomplete run in `out`.
    """
    chosen = get_method(method)
    config.check()
    check_tokenizer(model)
    out = Path(out)
    data = load_train_data(chosen, forget, retain, relearn_data)
    reference_spec = model_reference(model)
    if resume:
        _resumable_card(out, method, config, data, reference_spec)
    else:
        check_output_dir(out, overwrite)
    start, tokenizer = load_model(model, dtype=DTYPES[config.dtype])
    trainable, frozen = start, None
    if resume and not config.lora:
        trainable, frozen = load_model(out, dtype=DTYPES[config.dtype])[0], start
    loop = TrainLoop(
        trainable,
        chosen,
        encode_pairs(tokenizer, data.items, config.max_length),
        encode_pairs(tokenizer, data.retain, config.max_length),
        config,
        tokenizer.pad_token_id,
        reference=frozen,
    )
    if resume:
        if config.lora:
            loop.load_adapter(out / ADAPTER_DIR)
        loop.load_state_dict(
            torch.load(out / RESUME_FILE, map_location=loop.accelerator.device, weights_only=True)
        )
    card = {
        "base": preset_of(model) or reference_spec,
        "model": reference_spec,
        "method": method,
        "hyperparameters": asdict(config),
        "data": data.specs,
        "data_hash": data.hashes,
        "seed": config.seed,
        "versions": versions(),
    }
    writer = CheckpointWriter(out, tokenizer, card, config.save_every)
    writer.saved_step = loop.step if resume else None
    try:
        loop.run(on_step=writer.on_step)
    except TrainingDiverged as err:
        kept = (
            f"kept the last good checkpoint {out} (step {writer.saved_step})"
            if writer.saved_step
            else "no checkpoint had been saved yet"
        )
        raise TrainingDiverged(
            f"training diverged: {err}; {kept}; lower --lr, add a retain term "
            "(*_gdr, *_klr) or save more often (--save-every)"
        ) from None
    except KeyboardInterrupt:
        _save_on_interrupt(loop, writer, out)
        raise
    return read_card(out)


def _save_on_interrupt(loop: TrainLoop, writer: CheckpointWriter, out: Path) -> None:
    """Ctrl-C: save the last completed step (single process, not mid-update) for --resume."""
    if loop.updating or loop.accelerator.num_processes > 1 or loop.step in (0, writer.saved_step):
        return
    writer.save(loop, stopped="interrupted")
    print(
        f"saved step {loop.step}/{loop.total_steps} to {out}; continue with --resume",
        file=sys.stderr,
    )
