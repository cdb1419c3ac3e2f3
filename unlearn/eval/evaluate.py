"""`evaluate`: generate answers for the forget and retain sets, score them, run the robustness
attacks that were asked for, and write one results JSON (meta + values + per-item details).

Every number's backend is written to `meta.backends`, so a kb-NLI KFR is never mistaken for a
DeBERTa one, and proxy judges are named as proxies.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.loaders import load_data, parse_spec
from unlearn.data.records import QARecord
from unlearn.devices import check_on_device, resolve_device
from unlearn.errors import UserError
from unlearn.eval.backends.chat import DEFAULT_KEY_ENV, chat_backend
from unlearn.eval.backends.embeddings import DEFAULT_EMBEDDINGS, Embedder
from unlearn.eval.backends.entities import EntityBackend, KBEntities, LLMEntities
from unlearn.eval.backends.judge import Judge, LLMJudge, ProxyJudge
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.eval.backends.nli import nli_backend
from unlearn.eval.backends.proxy import NO_TRIPLES, ProxyEntities
from unlearn.eval.generate import GenerationConfig, generate_answers
from unlearn.eval.lineage import default_relearn_lr, default_scorer, lineage
from unlearn.eval.metrics.ecs import MATCH_THRESHOLD
from unlearn.eval.metrics.kfr_krr import Thresholds
from unlearn.eval.metrics.linguistic import BACKEND as LINGUISTIC_BACKEND
from unlearn.eval.metrics.rouge import BACKEND as ROUGE_BACKEND
from unlearn.eval.recall import MATCHER
from unlearn.eval.robustness import (
    JAILBREAKS,
    jailbreak_questions,
    parse_precision,
    precision_name,
    quantization_name,
    quantize_weights,
    relearn_attack,
    round_weights,
    split_halves,
)
from unlearn.eval.scoring import FORGET, PARAPHRASED, RETAIN, Scorer
from unlearn.io import display_path, hash_json, versions, write_json
from unlearn.models import load_model, read_card, resolve_model
from unlearn.precision import model_precision


@dataclass
class EvalConfig:
    """What to generate, which backend computes each metric, and which attacks to run."""

    generation: GenerationConfig = field(default_factory=GenerationConfig)
    entities: str = "kb"  # kb | openai:URL[#MODEL] | hf:PATH
    embeddings: str = DEFAULT_EMBEDDINGS  # minilm | a sentence-transformers folder
    nli: str = "kb"  # kb | hf:PATH
    judge: str = "proxy"  # proxy | none | openai:URL[#MODEL] | hf:PATH
    scorer: str | None = None  # PPL scorer; default: the vanilla model of the checkpoint's lineage
    world: str | None = None  # benchmark folder for the kb backends (default: the data's folder)
    api_key_env: str = DEFAULT_KEY_ENV
    dtype: str = "float32"
    precisions: tuple[str, ...] = ()
    quantize: tuple[int, ...] = ()
    jailbreak: str | None = None
    relearn_steps: int = 0
    relearn_lr: float | None = None
    paraphrased: bool = False  # also score the forget set's paraphrased questions
    thresholds: Thresholds = field(default_factory=Thresholds)
    limit: int | None = None
    device: str | None = None
    name: str | None = None
    seed: int = 0
    overwrite: bool = False
    progress: bool = True


def _load_set(spec: str, limit: int | None) -> list[QARecord]:
    records = load_data(spec)
    return records[:limit] if limit else records


def _world_dir(config: EvalConfig, specs: tuple[str, str]) -> Path | None:
    if config.world:
        if not (Path(config.world) / "world.json").is_file():
            raise UserError(f"--world {config.world} is not a benchmark folder (no world.json)")
        return Path(config.world)
    for spec in specs:
        kind, path, _ = parse_spec(spec)
        if kind == "ours" and (path / "world.json").is_file():
            return path
    return None


def _entities(config: EvalConfig, kb: KnowledgeBase | None) -> EntityBackend:
    """kb, proxy (also for kb on data without fact triples, named so) or an LLM extractor."""
    if config.entities == "proxy":
        return ProxyEntities()
    if config.entities == "kb":
        return KBEntities(kb) if kb is not None else ProxyEntities(reason=NO_TRIPLES)
    return LLMEntities(chat_backend(config.entities, config.api_key_env, config.device))


def _judge(config: EvalConfig, embed: Embedder) -> Judge | None:
    if config.judge == "none":
        return None
    if config.judge == "proxy":
        return ProxyJudge(embed)
    return LLMJudge(chat_backend(config.judge, config.api_key_env, config.device))


def _validate(config: EvalConfig) -> None:
    parse_precision(config.dtype)
    for name in config.precisions:
        parse_precision(name)
    if config.jailbreak is not None and config.jailbreak not in JAILBREAKS:
        raise UserError(f"unknown jailbreak {config.jailbreak!r}; valid: {', '.join(JAILBREAKS)}")
    if config.relearn_steps < 0:
        raise UserError(f"--relearn-steps must be >= 0, got {config.relearn_steps}")
    if config.limit is not None and config.limit < 1:
        raise UserError(f"--limit must be >= 1, got {config.limit}")


def _nan_to_none(obj: Any) -> Any:
    """Strict JSON: NaN and inf become null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


@dataclass
class Context:
    """What every run of one evaluation shares: the model, its sets, and the scorer."""

    config: EvalConfig
    model_path: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    sets: dict[str, list[QARecord]]
    scorer: Scorer
    device: torch.device

    def run(
        self,
        model: PreTrainedModel,
        label: str,
        sets: dict[str, list[QARecord]] | None = None,
        questions: dict[str, list[str]] | None = None,
        full: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Generate answers for each set with `model` and score them; (values, items) keyed by set."""
        values, items = {}, {}
        for kind, records in (sets or self.sets).items():
            asked = questions[kind] if questions else [r.question for r in records]
            generation, progress = self.config.generation, self.config.progress
            generated = generate_answers(
                model, self.tokenizer, asked, generation, progress, desc=f"{label} {kind}"
            )
            values[kind], items[kind] = self.scorer.score(
                kind, records, generated, full=full, asked=asked
            )
        return values, items


def _paraphrased_run(ctx: Context) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The forget set asked with its paraphrased questions: a second view of recall."""
    records = [r for r in ctx.sets[FORGET] if r.paraphrased_question]
    if not records:
        return None
    questions = {FORGET: [r.paraphrased_question for r in records]}
    values, items = ctx.run(ctx.model, "paraphrased", {FORGET: records}, questions)
    return values[FORGET], items[FORGET]


Attack = tuple[
    str, tuple[dict[str, Any], dict[str, Any]], str
]  # (name, (values, items), description)


def _precision_attacks(ctx: Context) -> list[Attack]:
    """KFR with the weights rounded to each precision (the forget set only: the claim is KFR's)."""
    attacks = []
    for precision in ctx.config.precisions:
        variant = round_weights(ctx.model, parse_precision(precision))
        result = ctx.run(variant, precision, {FORGET: ctx.sets[FORGET]})
        attacks.append((precision, result, f"{precision_name(precision)}; forget set only"))
        del variant
    return attacks


def _quantization_attacks(ctx: Context) -> list[Attack]:
    return [
        (
            f"int{bits}",
            ctx.run(quantize_weights(ctx.model, bits), f"int{bits}"),
            quantization_name(bits),
        )
        for bits in ctx.config.quantize
    ]


def _jailbreak_attack(ctx: Context, name: str) -> Attack:
    """Every question wrapped in the jailbreak prompt, trimmed to the model's context if need be."""
    context = int(getattr(ctx.model.config, "max_position_embeddings", 4096))
    budget = context - ctx.config.generation.max_new_tokens
    wrapped, trimmed = {}, 0
    for kind, records in ctx.sets.items():
        questions = [r.question for r in records]
        wrapped[kind], count = jailbreak_questions(
            ctx.tokenizer, questions, JAILBREAKS[name], budget
        )
        trimmed += count
    note = (
        f"; preamble trimmed from the front for {trimmed} prompt(s) to fit the context"
        if trimmed
        else ""
    )
    description = f"each question wrapped in the {name.upper()} jailbreak prompt{note}"
    return f"jailbreak_{name}", ctx.run(ctx.model, name, questions=wrapped), description


def _relearn_attacks(ctx: Context, clean_items: list[dict[str, Any]]) -> list[Attack]:
    """Fine-tune on half the forget set; score the other half before (clean answers) and after."""
    config = ctx.config
    lr = config.relearn_lr or default_relearn_lr(ctx.model_path)
    trained, held_out = split_halves(ctx.sets[FORGET], config.seed)
    held_ids = {r.id for r in held_out}
    before = [i["generated"] for i in clean_items if i["id"] in held_ids]
    baseline_values, baseline_items = ctx.scorer.score(FORGET, held_out, before, full=False)
    attacked, losses = relearn_attack(
        ctx.model, ctx.tokenizer, trained, config.relearn_steps, lr, config.seed
    )
    after_values, after_items = ctx.run(attacked, "relearned", {FORGET: held_out})
    trained_values, _ = ctx.run(attacked, "relearned-train", {FORGET: trained})
    after_values["trained_half"] = {"fact_recall": trained_values[FORGET]["fact_recall"]}
    description = (
        f"{config.relearn_steps} full-batch fine-tuning steps (lr {lr:g}) on {len(trained)} forget records; "
        f"scored on the other {len(held_out)}; losses {[round(x, 4) for x in losses]}"
    )
    return [
        (
            "relearn_baseline",
            ({FORGET: baseline_values}, {FORGET: baseline_items}),
            "the clean model on the held-out half of the forget set",
        ),
        ("relearn", (after_values, after_items), description),
    ]


def _scorer_model(
    config: EvalConfig,
    model_path: str,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    device: torch.device,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str, list[str]]:
    """The PPL scorer (reusing the evaluated model when it is the scorer), its description, warnings."""
    spec, how = (
        (config.scorer, "given with --scorer") if config.scorer else default_scorer(model_path)
    )
    description = f"{display_path(spec)} ({how}); answer tokens given the chat-templated question"
    if Path(resolve_model(spec)).resolve() == Path(model_path).resolve():
        return model, tokenizer, description, []
    scorer_model, scorer_tokenizer = load_model(spec, device=device)
    warnings = []
    if scorer_tokenizer.get_vocab() != tokenizer.get_vocab():
        warnings.append(
            f"the PPL scorer {spec} has a different tokenizer from the model; answers are "
            "re-tokenized by the scorer (allowed, but PPLs are on its tokens)"
        )
    return scorer_model, scorer_tokenizer, description, warnings


def _knowledge_base(
    config: EvalConfig, sets: dict[str, list[QARecord]], specs: dict[str, str]
) -> KnowledgeBase | None:
    """The knowledge base of the data's fact triples, when a kb backend is asked for; None when
    none is, or when some record has no triple (the kb backends then give way to the proxies)."""
    if "kb" not in (config.entities, config.nli):
        return None
    if any(record.fact is None for records in sets.values() for record in records):
        return None
    return KnowledgeBase.for_records(
        sets[FORGET] + sets[RETAIN], _world_dir(config, (specs[FORGET], specs[RETAIN]))
    )


def _generation_description(config: EvalConfig) -> str:
    g = config.generation
    retries = f", empty answers sampled again up to {g.empty_retries}x" if g.empty_retries else ""
    decoding = (
        f"sampling (temperature {g.temperature}, top_p {g.top_p}, top_k {g.top_k}{retries})"
        if g.sample
        else "greedy"
    )
    return f"{decoding}, up to {g.max_new_tokens} new tokens, the model's chat template, {config.dtype}"


def evaluate(
    model: str | Path, forget: str, retain: str, out: str | Path, config: EvalConfig | None = None
) -> dict:
    """Evaluate a checkpoint on a forget and a retain set; writes `out` (JSON) and returns the results."""
    config = config or EvalConfig()
    started = time.time()
    out = Path(out)
    if out.is_dir() or (out.exists() and not config.overwrite):
        raise UserError(f"output {out} already exists; pass --overwrite to replace it")
    _validate(config)
    model_path = resolve_model(model)
    lineage(model_path)  # a broken card in the lineage fails before anything loads
    specs = {FORGET: forget, RETAIN: retain}
    sets = {kind: _load_set(spec, config.limit) for kind, spec in specs.items()}
    kb = _knowledge_base(config, sets, specs)
    device = resolve_device(config.device)
    embed = Embedder(config.embeddings, device=str(device))
    nli = nli_backend(config.nli, kb, str(device), embed)
    entities = _entities(config, kb)
    judge = _judge(config, embed)
    hf_model, tokenizer = load_model(model_path, dtype=parse_precision(config.dtype), device=device)
    check_on_device(hf_model, device, f"model {model}")
    ppl_model, ppl_tokenizer, ppl_description, warnings = _scorer_model(
        config, model_path, hf_model, tokenizer, device
    )
    scorer = Scorer(
        entities,
        embed,
        nli,
        judge,
        config.thresholds,
        ppl_model,
        ppl_tokenizer,
        config.generation.batch_size,
        config.progress,
    )
    ctx = Context(config, model_path, hf_model, tokenizer, sets, scorer, device)

    values, items = ctx.run(hf_model, "clean", full=True)
    paraphrased = _paraphrased_run(ctx) if config.paraphrased else None
    if paraphrased is not None:
        values[PARAPHRASED], items[PARAPHRASED] = paraphrased
    attacks = _precision_attacks(ctx) + _quantization_attacks(ctx)
    if config.jailbreak:
        attacks.append(_jailbreak_attack(ctx, config.jailbreak))
    if config.relearn_steps:
        attacks += _relearn_attacks(ctx, items[FORGET])
    if attacks:
        values["robustness"] = {name: result[0] for name, result, _ in attacks}
        items["robustness"] = {name: result[1] for name, result, _ in attacks}

    results = {
        "meta": {
            "name": config.name or out.stem,
            "model": str(model),
            "model_path": model_path,
            "method": read_card(model_path).get("method"),
            "data": specs,
            "data_hash": {
                kind: hash_json([r.to_json() for r in records]) for kind, records in sets.items()
            },
            "backends": {
                "generation": _generation_description(config),
                "entities": entities.name,
                "embeddings": embed.name,
                "ecs": f"(predicted, gold) entity pairs with cosine >= {MATCH_THRESHOLD} / |gold entities|",
                "nli": nli.name,
                "ppl": ppl_description,
                "linguistic": LINGUISTIC_BACKEND,
                "rouge": ROUGE_BACKEND,
                "fact_recall": MATCHER,
                "judge": judge.name if judge else "none",
            },
            "thresholds": asdict(config.thresholds),
            "robustness": {name: description for name, _, description in attacks},
            "warnings": warnings,
            "config": asdict(config),
            "seed": config.seed,
            "device": str(device),
            "precision": model_precision(hf_model),
            "versions": versions(),
            "elapsed_s": round(time.time() - started, 1),
        },
        "values": values,
        "items": items,
    }
    results = _nan_to_none(results)
    write_json(out, results)
    return results
