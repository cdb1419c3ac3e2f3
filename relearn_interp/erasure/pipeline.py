"""Every erasure probe for each checkpoint against the model before unlearning: one results dict.

Units are the forget facts the base model recalls (a fact it never stated cannot be forgotten);
the others are listed in `meta.excluded_unknown`. Per checkpoint: recall (which facts it forgot),
patching in both directions (per variant), the lens through the base's and its own head,
quantized recall and the relearning attack with its control (on forgotten facts only: a fact the
checkpoint still states has nothing to recover). Layout: docs/erasure.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from relearn_interp.erasure import depth as depth_module
from relearn_interp.erasure.judge import JUDGEMENT_RULE, judge, probe_estimates
from relearn_interp.erasure.lens_recovery import fact_lens, lens_ranks
from relearn_interp.erasure.patching import VARIANTS
from relearn_interp.erasure.recall_probes import (
    GENERATION,
    RECALL_BACKEND,
    check_bits,
    quantization_backend,
    quantized_recall,
    recall_details,
)
from relearn_interp.erasure.relearning import (
    RelearnSettings,
    attack_split,
    control_records,
    fine_tune,
)
from relearn_interp.erasure.summary import curve_summary, per_fact_arrays
from relearn_interp.erasure.targets import FactTarget, build_targets
from relearn_interp.load import require_same_vocab
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import hash_json, versions
from unlearn.recall.generation import GenerationConfig

PATCHING_BACKEND = (
    "activation patching of block outputs (blocks.{l}.hook_resid_post) on plain Hugging Face "
    "models with a key/value cache of the unchanged prefix; gold log-probability at the knowledge slot"
)
LENS_BACKEND = (
    "logit lens at the knowledge slot: block outputs -> final norm -> unembedding, through the "
    "base model's head (headline) and the checkpoint's own head"
)


@dataclass(frozen=True)
class ErasureSettings:
    """What the probes read and how hard they attack."""

    top_k: int = 10
    variants: tuple[str, ...] = ("slot",)
    min_gap: float = depth_module.MIN_GAP
    bits: tuple[int, ...] = (8, 4)
    relearn: RelearnSettings = field(default_factory=RelearnSettings)
    generation: GenerationConfig = GENERATION
    chunk_size: int = 8
    mixed_precision: str = "no"  # patching passes (fine-tuning: relearn.mixed_precision)
    seed: int = 0

    def check(self) -> None:
        if self.top_k < 1:
            raise UserError(f"--top-k must be at least 1, got {self.top_k}")
        if not self.variants or any(v not in VARIANTS for v in self.variants):
            raise UserError(
                f"patching variants must be among {', '.join(VARIANTS)}, got {self.variants}"
            )
        if self.mixed_precision not in ("no", "bf16"):
            raise UserError(f"--mixed-precision must be no or bf16, got {self.mixed_precision!r}")
        if self.chunk_size < 1 or self.min_gap <= 0:
            raise UserError(
                f"--chunk-size must be ≥ 1 and --min-gap > 0, got {self.chunk_size} and {self.min_gap}"
            )
        check_bits(self.bits)
        self.relearn.check()


@dataclass
class Model:
    """A loaded model with its label and where it came from (for the results' provenance)."""

    label: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    spec: str
    relearn_lr: float | None = None  # default learning rate of the relearning attack on it


@dataclass
class Plan:
    """What every checkpoint shares: the facts, the attack's split, the control's records and the
    base model's side of the patching (computed once)."""

    forget: list[QARecord]
    targets: list[FactTarget]  # the forget facts the base recalls
    split: tuple[list[QARecord], list[QARecord]]  # the attacker's half, the held-out half
    control: list[QARecord]
    base_sides: dict[str, depth_module.Side]
    seconds: float


def _timed(seconds: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    seconds[name] = round(seconds.get(name, 0.0) + now - started, 2)
    return now


def prepare(
    base: Model,
    forget: list[QARecord],
    retain: list[QARecord],
    settings: ErasureSettings,
    context: list[QARecord] | None = None,
) -> Plan:
    """Which facts the base knows, their gold tokens, the split, the control and the base side."""
    settings.check()
    started = time.perf_counter()
    base_recall = recall_details(base.model, base.tokenizer, forget, settings.generation)
    known = [r for r in forget if base_recall[r.id]["recalled"]]
    if not known:
        raise UserError(
            f"the base model {base.label} recalls none of the {len(forget)} forget records; "
            "give the model before unlearning as --base"
        )
    targets = build_targets(base.tokenizer, known, context or [*forget, *retain])
    split = attack_split(forget, settings.seed)
    steps = settings.relearn.steps
    control = control_records(retain, forget, len(split[0]), settings.seed) if steps else []
    pad_id = base.tokenizer.pad_token_id or 0
    sides = {
        v: depth_module.clean_side(
            base.model, targets, v, pad_id, settings.chunk_size, settings.mixed_precision
        )
        for v in settings.variants
    }
    return Plan(forget, targets, split, control, sides, round(time.perf_counter() - started, 2))


def _relearning(
    ckpt: Model, plan: Plan, settings: ErasureSettings, forgotten: list[QARecord]
) -> tuple[dict[str, dict[str, dict]], dict]:
    """Held-out forgotten facts' recall after the attack and after the control, with their logs."""
    train, held_out = plan.split
    held_ids = {r.id for r in held_out}
    tested = [r for r in forgotten if r.id in held_ids]
    if not tested or settings.relearn.steps == 0:
        reason = "0 steps" if settings.relearn.steps == 0 else "no forgotten held-out fact"
        return {"attack": {}, "control": {}}, {"skipped": reason}
    lr = settings.relearn.lr or ckpt.relearn_lr
    if lr is None:
        raise UserError(f"no relearning learning rate for {ckpt.label}; pass --relearn-lr")
    found, log = {}, {"lr": lr}
    for name, records in (("attack", train), ("control", plan.control)):
        tuned, losses = fine_tune(ckpt.model, ckpt.tokenizer, records, settings.relearn, lr)
        found[name] = recall_details(tuned, ckpt.tokenizer, tested, settings.generation)
        log[f"{name}_losses"] = [round(x, 4) for x in losses]
        del tuned
    return found, log


def probe_checkpoint(base: Model, plan: Plan, ckpt: Model, settings: ErasureSettings) -> dict:
    """Every probe of one checkpoint: per-fact items and arrays, estimates, curves and timings."""
    seconds: dict[str, float] = {}
    targets = plan.targets
    started = time.perf_counter()
    clean = recall_details(
        ckpt.model, ckpt.tokenizer, [t.record for t in targets], settings.generation
    )
    forgotten = [t.record for t in targets if not clean[t.id]["recalled"]]
    started = _timed(seconds, "recall", started)
    curves, sides = {}, []
    for variant in settings.variants:
        curves[variant], side = depth_module.patch_both_ways(
            base.model,
            plan.base_sides[variant],
            ckpt.model,
            targets,
            variant,
            base.tokenizer.pad_token_id or 0,
            settings.mixed_precision,
        )
        sides.append(side)
    started = _timed(seconds, "patching", started)
    slot_resid = torch.stack([acts[:, -1] for acts in sides[0].captured])  # [n, layer, d_model]
    ranks = {
        "base": lens_ranks(base.model, slot_resid, targets, settings.top_k),
        "own": lens_ranks(ckpt.model, slot_resid, targets, settings.top_k),
    }
    started = _timed(seconds, "lens", started)
    quantized = {
        f"int{bits}": quantized_recall(
            ckpt.model, ckpt.tokenizer, forgotten, bits, settings.generation
        )
        for bits in settings.bits
    }
    started = _timed(seconds, "quantization", started)
    relearned, relearn_log = _relearning(ckpt, plan, settings, forgotten)
    _timed(seconds, "relearning", started)
    items = [
        {
            **clean[target.id],
            "forgotten": not clean[target.id]["recalled"],
            "lens": {
                head: fact_lens(ranks[head], i, settings.top_k, not clean[target.id]["recalled"])
                for head in ranks
            },
            "patching": {
                v: depth_module.fact_curves(c, i, settings.min_gap) for v, c in curves.items()
            },
            "quantization": {name: found.get(target.id) for name, found in quantized.items()},
            "relearn": {name: found.get(target.id) for name, found in relearned.items()},
        }
        for i, target in enumerate(targets)
    ]
    per_fact = per_fact_arrays(items, settings.bits, settings.variants[0])
    estimates = probe_estimates(per_fact, settings.seed)
    return {
        "items": items,
        "per_fact": per_fact,
        "summary": {k: (v.to_json() if v else None) for k, v in estimates.items()},
        "judgement": judge(estimates),
        "curves": {v: curve_summary(items, v, settings.seed) for v in curves},
        "relearning": relearn_log,
        "seconds": seconds,
    }


def erasure(
    base: Model,
    checkpoints: Mapping[str, Model | str | Path],
    forget: list[QARecord],
    retain: list[QARecord],
    settings: ErasureSettings = ErasureSettings(),
    context: list[QARecord] | None = None,
    load: Callable[[str, str], Model] | None = None,
) -> dict:
    """Probe each checkpoint (a `Model`, or a spec that `load(label, spec)` turns into one, one at a
    time) against `base` on the `forget` records; `retain` feeds the relearning control only, and
    `context` (default: forget + retain) gives each relation's other objects (the decoys)."""
    plan = prepare(base, forget, retain, settings, context)
    results = {}
    for label, spec in checkpoints.items():
        loaded_at = time.perf_counter()
        if isinstance(spec, Model):
            ckpt = spec
        elif load is None:
            raise UserError(f"checkpoint {label} is a path; pass `load` to turn it into a Model")
        else:
            ckpt = load(label, str(spec))
        require_same_vocab({base.label: base.tokenizer, label: ckpt.tokenizer})
        load_seconds = round(time.perf_counter() - loaded_at, 2)
        results[label] = probe_checkpoint(base, plan, ckpt, settings)
        results[label]["seconds"]["load"] = load_seconds
        results[label]["spec"] = ckpt.spec
        del ckpt
    return {
        "meta": _meta(base, plan, settings, results),
        "values": {
            "fact_ids": [t.id for t in plan.targets],
            "checkpoints": {
                label: {k: v for k, v in result.items() if k != "items"}
                for label, result in results.items()
            },
        },
        "items": _facts(base, plan, results),
    }


def _facts(base: Model, plan: Plan, results: dict[str, dict]) -> list[dict]:
    held_out = {r.id for r in plan.split[1]}
    return [
        {
            "id": t.id,
            "question": t.record.question,
            "gold_object": t.record.fact.object if t.record.fact else t.record.answer,
            "gold_token": base.tokenizer.decode([t.gold_id]),
            "gold_index": t.gold_index,
            "informative": t.informative,
            "n_decoys": len(t.decoy_ids),
            "n_subject_tokens": len(t.subject_positions),
            "relearn_role": "held_out" if t.id in held_out else "train",
            "checkpoints": {label: result["items"][i] for label, result in results.items()},
        }
        for i, t in enumerate(plan.targets)
    ]


def _meta(base: Model, plan: Plan, settings: ErasureSettings, results: dict[str, dict]) -> dict:
    known = {t.id for t in plan.targets}
    relearn = settings.relearn
    return {
        "analysis": "erasure",
        "base": base.spec,
        "base_label": base.label,
        "checkpoints": {label: result["spec"] for label, result in results.items()},
        "data_hash": hash_json([r.to_json() for r in plan.forget]),
        "n_records": len(plan.forget),
        "n_facts": len(plan.targets),
        "excluded_unknown": [r.id for r in plan.forget if r.id not in known],
        "relearn_train_ids": [r.id for r in plan.split[0]],
        "control_ids": [r.id for r in plan.control],
        "settings": asdict(settings),
        "judgement_rule": JUDGEMENT_RULE,
        "backend": {
            "recall": RECALL_BACKEND,
            "lens": LENS_BACKEND,
            "patching": PATCHING_BACKEND,
            "quantization": quantization_backend(settings.bits),
            "relearning": "full fine-tuning (unlearn.training.attack.relearn) of a float32 copy, "
            f"{relearn.steps} steps of {relearn.batch_size} records, "
            f"{relearn.mixed_precision} autocast",
            "target": "the fact object's first informative token (first token that differs from "
            "every other object of its relation); decoys: those other objects' tokens there",
        },
        "seconds": {
            "base": plan.seconds,
            **{label: result["seconds"] for label, result in results.items()},
        },
        "seed": settings.seed,
        "versions": versions(),
    }
