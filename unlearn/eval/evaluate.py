"""`evaluate`: generate answers for the forget and retain sets, score them, run the robustness
attacks that were asked for, and write one results JSON (meta + values + per-item details).

Every number's backend is written to `meta.backends`, so a kb-NLI KFR is never mistaken for a
DeBERTa one, and proxy judges are named as proxies.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.loaders import load_data, parse_spec
from unlearn.data.records import QARecord
from unlearn.devices import check_on_device, resolve_device
from unlearn.embeddings import Embedder
from unlearn.errors import UserError
from unlearn.eval.backends.chat import chat_backend
from unlearn.eval.backends.entities import EntityBackend, KBEntities, LLMEntities
from unlearn.eval.backends.judge import Judge, LLMJudge, ProxyJudge
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.eval.backends.nli import nli_backend
from unlearn.eval.backends.proxy import NO_TRIPLES, ProxyEntities
from unlearn.eval.context import Context, EvalConfig
from unlearn.eval.metrics.ecs import MATCH_THRESHOLD
from unlearn.eval.metrics.linguistic import BACKEND as LINGUISTIC_BACKEND
from unlearn.eval.metrics.rouge import BACKEND as ROUGE_BACKEND
from unlearn.eval.robustness import JAILBREAKS, Attack, parse_precision, run_attacks
from unlearn.eval.scoring import FORGET, PARAPHRASED, RETAIN, Scorer, default_scorer
from unlearn.io import display_path, hash_json, versions, write_json
from unlearn.models.card import lineage, read_card
from unlearn.models.loading import load_model, resolve_model
from unlearn.precision import model_precision
from unlearn.recall.recall import MATCHER


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


def _paraphrased_run(ctx: Context) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The forget set asked with its paraphrased questions: a second view of recall."""
    records = [r for r in ctx.sets[FORGET] if r.paraphrased_question]
    if not records:
        return None
    questions = {FORGET: [r.paraphrased_question for r in records]}
    values, items = ctx.run(ctx.model, "paraphrased", {FORGET: records}, questions)
    return values[FORGET], items[FORGET]


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


def _context(model: str | Path, specs: dict[str, str], config: EvalConfig) -> tuple[Context, dict]:
    """Load the sets, the backends, the model and its PPL scorer; the context every run shares,
    and what the results' meta records of them (backends, warnings)."""
    model_path = resolve_model(model)
    lineage(model_path)  # a broken card in the lineage fails before anything loads
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
    backends = {
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
    }
    ctx = Context(config, model_path, hf_model, tokenizer, sets, scorer, device)
    return ctx, {"backends": backends, "warnings": warnings}


def _checked_answers(ctx: Context) -> list[str] | None:
    """The kept step's stop-rule check answers (`unlearn.training.stop_rule`), when this eval
    would generate the same: the checkpoint holds the weights the check ran on, so with the same
    questions, generation settings, dtype and device its answers are the clean forget answers."""
    kept = read_card(ctx.model_path).get("forget_target", {}).get("kept_answers")
    same = kept is not None and (
        kept["questions"] == [r.question for r in ctx.sets[FORGET]]
        and kept["generation"] == asdict(ctx.config.generation)
        and kept["dtype"] == str(parse_precision(ctx.config.dtype)).removeprefix("torch.")
        and kept["device"] == str(ctx.device)
        and not ctx.config.generation.sample
    )
    return kept["answers"] if same else None


def _meta(
    ctx: Context,
    model: str | Path,
    out: Path,
    specs: dict[str, str],
    loaded: dict,
    attacks: list[Attack],
    started: float,
) -> dict[str, Any]:
    """The results' meta: what was evaluated, on which data, by which backends and attacks."""
    config = ctx.config
    return {
        "name": config.name or out.stem,
        "model": str(model),
        "model_path": ctx.model_path,
        "method": read_card(ctx.model_path).get("method"),
        "data": specs,
        "data_hash": {
            kind: hash_json([r.to_json() for r in records]) for kind, records in ctx.sets.items()
        },
        "backends": loaded["backends"],
        "thresholds": asdict(config.thresholds),
        "robustness": {name: description for name, _, description in attacks},
        "warnings": loaded["warnings"],
        "config": asdict(config),
        "seed": config.seed,
        "device": str(ctx.device),
        "precision": model_precision(ctx.model),
        "versions": versions(),
        "elapsed_s": round(time.time() - started, 1),
    }


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
    specs = {FORGET: forget, RETAIN: retain}
    ctx, loaded = _context(model, specs, config)

    checked = _checked_answers(ctx)
    given = {FORGET: checked} if checked else None
    values, items = ctx.run(ctx.model, "clean", full=True, given=given)
    paraphrased = _paraphrased_run(ctx) if config.paraphrased else None
    if paraphrased is not None:
        values[PARAPHRASED], items[PARAPHRASED] = paraphrased
    attacks = run_attacks(ctx, items[FORGET])
    if attacks:
        values["robustness"] = {name: result[0] for name, result, _ in attacks}
        items["robustness"] = {name: result[1] for name, result, _ in attacks}
    meta = _meta(ctx, model, out, specs, loaded, attacks, started)
    meta["clean_forget_answers"] = (
        "the stop rule's check at the kept step (same questions, generation settings and weights)"
        if checked
        else "generated by this eval"
    )
    results = _nan_to_none({"meta": meta, "values": values, "items": items})
    write_json(out, results)
    return results
