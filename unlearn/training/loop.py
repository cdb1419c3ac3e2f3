"""The one training loop, on accelerate: every unlearning method and the vanilla fine-tune.

`TrainLoop` pairs each forget item (or ReLearn row) with a retain item drawn with the seed,
optimises the method's loss with AdamW and a linear schedule, and guards against divergence:
a NaN/inf loss or gradient stops the run before the update. Data order comes from (seed, epoch)
and dropout is reseeded from (seed, step, rank), so a resumed run needs only optimizer and
schedule state to reach the same weights as an uninterrupted one.

Several processes (`accelerate launch`): `batch_size` is the global micro-batch, split evenly
across processes, and losses are normalised by the global token/sequence counts, so the
gradient is the single-process one.
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from accelerate import Accelerator, DistributedType
from jaxtyping import Float
from torch import Tensor
from tqdm.auto import tqdm
from transformers import PreTrainedModel, get_linear_schedule_with_warmup

from unlearn.errors import UserError
from unlearn.methods import Method, compute_terms
from unlearn.methods.batch import TokenBatch
from unlearn.methods.reference import CachedReference
from unlearn.methods.sure import mask_gradients, saliency_masks
from unlearn.precision import resolve_mixed_precision
from unlearn.prompting import IGNORE_INDEX, Example
from unlearn.training.config import TrainConfig
from unlearn.training.lora import merged_state_dict, wrap_lora


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


def add_forget_gradients(
    params: list[torch.nn.Parameter], forget_grads: list[Tensor | None], weight: float
) -> None:
    """`.grad += weight · forget gradient`: SURE's total gradient from its two halves."""
    for param, grad in zip(params, forget_grads, strict=True):
        if grad is None:
            continue
        if param.grad is None:
            param.grad = weight * grad
        else:
            param.grad.add_(grad, alpha=weight)


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
        # `auto` becomes bf16 or no here, from the device the run trains on
        self.mixed_precision = resolve_mixed_precision(
            config.mixed_precision, self.accelerator.device
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
        self.total_steps = config.max_steps or self.steps_per_epoch * config.epochs
        self.scheduler = get_linear_schedule_with_warmup(
            optimizer, round(config.warmup_ratio * self.total_steps), self.total_steps
        )
        self.reference = None
        if method.needs_reference:
            self.reference = CachedReference(
                Reference(
                    self.accelerator, frozen=frozen, lora_model=self.model if config.lora else None
                )
            )
        self.step = 0
        self.log: list[dict] = []
        self.updating = False
        self.finished = False  # set when a stop rule ends the run before `total_steps`
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

        def build(data: list[Example], everyone: list[int], indices: list[int]) -> TokenBatch:
            tokens = sum(answer_token_count(data[i]) for i in everyone)
            return TokenBatch.build(
                [data[i] for i in indices],
                self.pad_id,
                max(1, tokens) / processes,
                len(everyone) / processes,
                device,
                indices,
            )

        forget = build(self.items, [i for i, _ in micro], [i for i, _ in mine])
        if not self.method.needs_retain:
            return forget, None
        retain = build(self.retain, [j for _, j in micro], [j for _, j in mine])
        return forget, retain

    # -- one optimizer step -------------------------------------------------------------------

    def _policy(self, batch: TokenBatch) -> Float[Tensor, "batch pos vocab"]:
        return self.model(**batch.model_inputs(), use_cache=False).logits

    def _autocast(self) -> torch.autocast:
        """bf16 autocast for the forward passes when the resolved precision is bf16 (weights,
        gradients and optimizer state stay in their dtype); ~1.7x faster on CPUs with bf16 units."""
        return torch.autocast(
            self.accelerator.device.type,
            dtype=torch.bfloat16,
            enabled=self.mixed_precision == "bf16",
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
                    # each graph backpropagated once: the forget gradient (also the saliency
                    # source) by autograd.grad, the retain terms' into .grad
                    grads = torch.autograd.grad(
                        terms.forget * scale, self.params, allow_unused=True
                    )
                    forget_grads = add_gradients(forget_grads, grads)
                    if terms.retain is not None:
                        self.accelerator.backward(terms.retain * scale)
                else:
                    self.accelerator.backward(terms.total * scale)
            for name, value in {"loss": terms.total, **terms.parts}.items():
                sums[name] = sums.get(name, 0.0) + value.detach().float() * scale
        names = list(sums)
        reduced = self.accelerator.reduce(torch.stack([sums[n] for n in names]), "mean")
        row: dict[str, float] = dict(zip(names, reduced.tolist(), strict=True))
        row["examples"] = sum(len(micro) for micro in group)
        if not math.isfinite(row["loss"]):
            raise TrainingDiverged(f"the loss became {row['loss']} at step {self.step + 1}")
        if forget_grads is not None:
            if self.accelerator.num_processes > 1:
                forget_grads = [
                    g if g is None else self.accelerator.reduce(g, "mean") for g in forget_grads
                ]
            add_forget_gradients(self.params, forget_grads, self.config.forget_weight)
            masks = saliency_masks(forget_grads, self.config.sure_percentile)
            mask_gradients(self.params, masks)
            row["salient_rows"] = int(sum(int(m.sum()) for m in masks if m is not None))
        # max_grad_norm <= 0: no clipping (as the reference runs), the norm is still measured
        limit = self.config.max_grad_norm if self.config.max_grad_norm > 0 else math.inf
        norm = self.accelerator.clip_grad_norm_(self.params, limit)
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
        self, on_step: Callable[[TrainLoop], bool | None] | None = None, desc: str | None = None
    ) -> list[dict]:
        """Train to the last step (from `self.step` when resumed), or until `on_step` returns
        True (a stop rule; `finished` is then set); returns the per-step log."""
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
            if on_step is not None and on_step(self):
                self.finished = True
                break
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
