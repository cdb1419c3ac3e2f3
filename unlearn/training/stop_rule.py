"""Train to a recall target: check recall as training goes, stop at the target.

Methods are compared at a matched forgetting level, not after hand-picked epochs: every
`check_every` optimizer steps (and before the first) the run answers the forget questions
greedily and scores them with the eval's matcher (`unlearn.recall.recall`). It stops at the first
check at or below the target and keeps that step. A run that never gets there keeps its best
checked step (lowest recall, earliest on ties), restored from an in-memory copy of the trainable
weights, and its card says the target was not reached.

A LoRA run's check generates from a plain model holding the merged weights
(`unlearn.training.lora.merged_state_dict`, the weights its checkpoint saves), not from the
wrapped model: each linear layer is then one matmul instead of three (faster decoding on a CPU),
and the check scores exactly the weights the kept checkpoint holds, so the eval can take the kept
check's answers (`kept_answers` in the card) as its clean forget answers.

The vanilla fine-tune runs the same rule the other way (`MemoriseTarget`): it stops at the first
check at or above the target recall of the facts it memorises, the epochs being the cap.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel, PreTrainedTokenizerBase
from transformers.initialization import no_init_weights

from unlearn.data.records import QARecord
from unlearn.recall.generation import GenerationConfig
from unlearn.recall.recall import MATCHER, fact_recall
from unlearn.training.loop import TrainLoop
from unlearn.training.lora import merged_state_dict


@dataclass
class RecallCheck:
    """Forget recall after `step` optimizer steps (`examples` forget-side items seen)."""

    step: int
    examples: int
    recall: float
    recall_exact: float


@dataclass
class ForgetTarget:
    """The stop rule: target recall, how often to check, and the trace so far."""

    records: list[QARecord]
    tokenizer: PreTrainedTokenizerBase
    target: float
    every: int
    near: float = 0.0  # within this recall of the target, check 4x as often (0: never)
    # Greedy, the eval's 48 new tokens, every question in one batch (decoding on a CPU reads every
    # weight once a token whatever the batch size).
    generation: GenerationConfig = field(default_factory=lambda: GenerationConfig(batch_size=64))
    trace: list[RecallCheck] = field(default_factory=list)
    best: RecallCheck | None = None
    best_recalled: dict[str, bool] = field(default_factory=dict)  # record id -> recalled
    best_answers: list[str] = field(default_factory=list)  # the best check's answers, in order
    _best_weights: list[torch.Tensor] | None = None
    _plain: PreTrainedModel | None = field(default=None, repr=False)  # LoRA runs: merged copy
    _checked_on: dict[str, str] = field(default_factory=dict)  # the best check's dtype, device

    def cadence(self, loop: TrainLoop) -> int:
        """Steps between checks: `every` (default once an epoch), a quarter of it once the last
        check came within `near` of the target, so a fast method does not overshoot it."""
        every = self.every or loop.steps_per_epoch
        last = self.trace[-1].recall if self.trace else 1.0
        return max(1, every // 4) if self.near and last <= self.target + self.near else every

    def __call__(self, loop: TrainLoop) -> bool:
        """After each step: check when due; True stops the run (target reached)."""
        since = loop.step - (self.trace[-1].step if self.trace else 0)
        if since < self.cadence(loop) and loop.step != loop.total_steps:
            return False
        return self.check(loop)

    @torch.no_grad()
    def check(self, loop: TrainLoop) -> bool:
        """Measure recall with the live weights (fp32, eval mode); True when at or below target."""
        model = loop.accelerator.unwrap_model(loop.model)
        was_training, use_cache = model.training, model.config.use_cache
        model.eval()
        model.config.use_cache = True
        try:
            recall, details = fact_recall(
                self._generator(model),
                self.tokenizer,
                self.records,
                self.generation,
                progress=False,
            )
        finally:
            model.config.use_cache = use_cache
            model.train(was_training)
        examples = sum(int(row.get("examples", 0)) for row in loop.log)
        exact = sum(d["recalled_exact"] for d in details) / max(1, len(details))
        result = RecallCheck(loop.step, examples, recall, exact)
        self.trace.append(result)
        if self.best is None or self._better(recall, self.best.recall):
            self.best = result
            self._best_weights = [p.detach().to("cpu", copy=True) for p in loop.params]
            self.best_recalled = {d["id"]: d["recalled"] for d in details}
            self.best_answers = [d["generated"] for d in details]
            weight = next(model.parameters())
            self._checked_on = {
                "dtype": str(weight.dtype).removeprefix("torch."),
                "device": str(weight.device),
            }
        return self._meets(recall)

    def _generator(self, model: torch.nn.Module) -> torch.nn.Module:
        """What the check generates from: the live model, or for a LoRA (peft) model a plain one
        of the same architecture whose weights are the merged ones, built once and refilled at
        each check (the weights LoRA does not touch are shared with the live model, not copied)."""
        if not hasattr(model, "get_base_model"):
            return model
        base = model.get_base_model()
        weight = next(base.parameters())
        if self._plain is None:
            with no_init_weights():  # every weight is assigned below: skip the random init
                self._plain = AutoModelForCausalLM.from_config(base.config, dtype=weight.dtype)
            self._plain.generation_config = copy.deepcopy(base.generation_config)
            self._plain.to(weight.device)
        merged = {key: value.to(weight.device) for key, value in merged_state_dict(model).items()}
        self._plain.load_state_dict(merged, strict=True, assign=True)
        self._plain.config.use_cache = True
        return self._plain.eval()

    def _meets(self, recall: float) -> bool:
        return recall <= self.target

    def _better(self, recall: float, best: float) -> bool:
        return recall < best

    @property
    def reached(self) -> bool:
        return self.best is not None and self._meets(self.best.recall)

    def restore_best(self, loop: TrainLoop) -> None:
        """Put the best checked weights back (a run that never reached the target)."""
        if self._best_weights is None or self.best is None or self.best.step == loop.step:
            return
        with torch.no_grad():
            for param, saved in zip(loop.params, self._best_weights, strict=True):
                param.copy_(saved)

    def _target_record(self, kept: str, **fields) -> dict:
        """The card fields both directions share: matcher, size, outcome, kept step, trace."""
        chosen = self.best
        return {
            "matcher": MATCHER,
            "questions": len(self.records),
            "reached": self.reached,
            "kept_step": chosen.step if chosen else None,
            **fields,
            "kept": kept,
            "trace": [asdict(check) for check in self.trace],
        }

    def kept_answers(self) -> dict:
        """The kept step's check: its questions, generation settings, precision and answers, for
        the eval to take as its clean answers when it would ask the same (`unlearn.eval`)."""
        return {
            "questions": [r.question for r in self.records],
            "generation": asdict(self.generation),
            **self._checked_on,
            "answers": self.best_answers,
        }

    def card(self) -> dict:
        """What the checkpoint card records: the target, the trace and the dose."""
        chosen = self.best
        kept = (
            "first check at or below the target"
            if self.reached
            else "best checked step (the target was not reached within the step cap)"
        )
        return {
            "forget_target": {
                "recall_at_most": self.target,
                "check_every": self.every,
                "check_near_target": self.near,
                **self._target_record(kept),
                "kept_answers": self.kept_answers(),
            },
            "dose": {
                "steps": chosen.step if chosen else 0,
                "examples_seen": chosen.examples if chosen else 0,
                "forget_recall": chosen.recall if chosen else None,
            },
        }


@dataclass
class MemoriseTarget(ForgetTarget):
    """The vanilla fine-tune's rule: stop at the first check whose recall of the memorised facts
    is at or above `target`; a run that never gets there keeps its best (highest) checked step."""

    steps_per_epoch: int = 1

    def check(self, loop: TrainLoop) -> bool:
        self.steps_per_epoch = loop.steps_per_epoch
        return super().check(loop)

    def _meets(self, recall: float) -> bool:
        return recall >= self.target

    def _better(self, recall: float, best: float) -> bool:
        return recall > best

    def card(self) -> dict:
        """The card's record: target, trace, and the epochs the kept step needed."""
        chosen = self.best
        kept = (
            "first check at or above the target"
            if self.reached
            else "best checked step (the target was not reached within the epoch cap)"
        )
        record = self._target_record(
            kept,
            epochs_needed=round(chosen.step / self.steps_per_epoch, 2) if chosen else None,
            recall=chosen.recall if chosen else None,
        )
        return {
            "recall_target": {
                "recall_at_least": self.target,
                "check_every": self.every,
                **record,
            }
        }
