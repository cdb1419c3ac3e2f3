"""Logit lens ("knowledge memory"): decode the residual stream after every layer into tokens.

The logit lens of layer l is what the output would be if the network stopped after l: each site
(`blocks.{l}.hook_resid_post`, optionally `hook_resid_mid`) is passed through the model's own
final norm, unembedding and final-logit transform (e.g. Gemma-2's soft cap; see
`relearn_interp.lens.decode`). At every gold answer position (teacher forcing) we record the gold
token's probability and rank, the top-k decoded tokens and the probability mass on
subject-related tokens (see `relearn_interp.prompts`). Reverse-optimisation unlearning that only
suppresses late layers shows the gold token high in the middle and low at the output ("suppressed
late, not erased"); erased knowledge never rises.

Cost: one forward pass per batch with a cache of the chosen residual sites only (unembedding one
position per sequence), then the answer positions (not the prompt) of all sites are decoded in
row chunks; the last block is decoded once and serves as both the output and its own site.
"""

from __future__ import annotations

import inspect
import math

import torch
from jaxtyping import Bool, Int
from torch import Tensor
from tqdm.auto import tqdm
from transformer_lens.model_bridge import TransformerBridge

from relearn_interp.lens.decode import TokenStats, check_readout, decode_stats, readout_description
from relearn_interp.lens.summary import Site, summarise
from relearn_interp.load import check_layer, require_same_tokenizer
from relearn_interp.prompts import (
    AnalysisPrompt,
    PromptBatch,
    build_prompts,
    iter_batches,
    require_fit,
)
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import hash_json, json_number, json_number_or_none, versions
from unlearn.precision import model_precision

LENS_BACKEND = (
    "logit lens: blocks.{l}.hook_resid_{post,mid} -> ln_final -> unembed -> the model's final-logit "
    "transform (TransformerLens TransformerBridge)"
)
POSITIONS = ("answer", "slots")


def lens_sites(
    model: TransformerBridge, layers: list[int] | None = None, mid: bool = False
) -> list[Site]:
    """The sites to decode: every block (or `layers`, negative from the end), mid-layer points if asked."""
    chosen = (
        sorted({check_layer(model, layer) for layer in layers})
        if layers
        else range(model.cfg.n_layers)
    )
    kinds = ("mid", "post") if mid else ("post",)
    return [Site(layer, kind) for layer in chosen for kind in kinds]


def related_rows(batch: PromptBatch) -> tuple[Int[Tensor, "n r"], Bool[Tensor, "n r"]]:
    """Each row's subject-related token ids, padded to a rectangle with a mask."""
    width = max(1, max(len(p.related_ids) for p in batch.prompts))
    ids = torch.zeros((len(batch.prompts), width), dtype=torch.long)
    mask = torch.zeros((len(batch.prompts), width), dtype=torch.bool)
    for index, prompt in enumerate(batch.prompts):
        ids[index, : len(prompt.related_ids)] = torch.tensor(prompt.related_ids, dtype=torch.long)
        mask[index, : len(prompt.related_ids)] = True
    rows = batch.rows.cpu()
    return ids[rows].to(batch.rows.device), mask[rows].to(batch.rows.device)


def decoded_rows(batch: PromptBatch, full: list[bool]) -> Int[Tensor, " m"]:
    """The rows to decode: every answer position of prompts marked `full`, else the two slots.

    The slots are the answer start and the knowledge slot (the gold token's position).
    """
    rows: set[int] = set()
    for index, prompt in enumerate(batch.prompts):
        span = batch.span(index)
        if full[index]:
            rows.update(range(span.start, span.stop))
        else:
            rows.update((span.start, span.start + prompt.target_index))
    return torch.tensor(sorted(rows), dtype=torch.long)


def _last_logit_only(model: TransformerBridge) -> dict:
    """Forward kwargs that unembed only the last position (models without `logits_to_keep`
    unembed every position)."""
    parameters = inspect.signature(model.original_model.forward).parameters
    return {"logits_to_keep": 1} if "logits_to_keep" in parameters else {}


def lens_batch(
    model: TransformerBridge,
    batch: PromptBatch,
    sites: list[Site],
    top_k: int,
    rows: Int[Tensor, " m"] | None = None,
    detail: Int[Tensor, " d"] | None = None,
    grid: Int[Tensor, " g"] | None = None,
) -> tuple[list[TokenStats], TokenStats]:
    """Token stats at the answer positions (`rows`, default all) of each site, and of the output.

    The gold log-probability is computed everywhere; rank, top-k and related mass at the `detail`
    rows (default all), top-k also at the `grid` rows (the heatmap's). The output is the last
    block decoded at every answer position: the forward pass unembeds only each sequence's last
    position, where `check_readout` confirms that the decoded last block is the model's own
    output. A site that is the last block reuses the output instead of decoding it twice.
    """
    last = Site(model.cfg.n_layers - 1)
    logits, cache = model.run_with_cache(
        batch.tokens, names_filter=[site.hook for site in {*sites, last}], **_last_logit_only(model)
    )
    check_readout(model, cache[last.hook][:, -1], logits[:, -1])
    related, related_mask = related_rows(batch)
    n_rows = batch.rows.shape[0]
    device = batch.rows.device
    wanted = torch.zeros(n_rows, dtype=torch.bool, device=device)
    wanted[slice(None) if detail is None else detail.to(device)] = True
    top = torch.zeros(n_rows, dtype=torch.bool, device=device)
    if grid is not None:
        top[grid.to(device)] = True
    rows = torch.arange(n_rows) if rows is None else rows
    on_device = rows.to(device)
    inner = [site for site in sites if site != last]
    where = (batch.rows[on_device], batch.positions[on_device])
    last_resid = cache[last.hook][batch.rows, batch.positions]
    # [site * m, d_model]; no rows when the last block is the only site
    resid = torch.cat([cache[site.hook][where] for site in inner] or [last_resid[:0]])
    del cache, logits
    output = decode_stats(
        model, last_resid, batch.targets, related, related_mask, wanted, top, top_k
    ).cpu()
    index = on_device.repeat(len(inner))
    decoded = decode_stats(
        model,
        resid,
        batch.targets[index],
        related[index],
        related_mask[index],
        wanted[index],
        top[index],
        top_k,
    ).cpu()
    n_decoded = rows.shape[0]
    per_site, position = [], 0
    for site in sites:
        if site == last:
            per_site.append(output.select(rows).spread(n_rows, rows))
        else:
            part = decoded.select(slice(position * n_decoded, (position + 1) * n_decoded))
            per_site.append(part.spread(n_rows, rows))
            position += 1
    return per_site, output


class _Decoder:
    """Token id -> text, memoised (the same tokens recur across sites and prompts)."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer
        self.memo: dict[int, str] = {}

    def __call__(self, token_id: int) -> str:
        if token_id not in self.memo:
            self.memo[token_id] = self.tokenizer.decode([token_id])
        return self.memo[token_id]


def _prompt_record(
    prompt: AnalysisPrompt,
    rows: slice,
    stats: TokenStats,
    decode: _Decoder,
    grid: bool,
    answer_means: bool = True,
) -> dict:
    """One prompt's numbers from one site (or the output): scalars at the target, means over the answer."""
    gold_logprob = stats.gold_logprob[rows] if answer_means else torch.tensor([math.nan])
    target = rows.start + prompt.target_index
    record = {
        "target_prob": json_number(math.exp(stats.gold_logprob[target])),
        "target_rank": int(stats.gold_rank[target]),
        "first_prob": json_number(math.exp(stats.gold_logprob[rows.start])),
        "first_rank": int(stats.gold_rank[rows.start]),
        "answer_prob": json_number_or_none(gold_logprob.exp().mean()),
        "answer_logprob": json_number_or_none(gold_logprob.mean()),
        "related_mass": json_number(stats.related_mass[target]) if prompt.related_ids else None,
        "top_tokens": [decode(int(t)) for t in stats.top_ids[target]],
        "top_probs": [json_number(p) for p in stats.top_probs[target]],
    }
    if grid:
        record["grid_top_token"] = [decode(int(t)) for t in stats.top_ids[rows, 0]]
        record["grid_top_prob"] = [json_number(p) for p in stats.top_probs[rows, 0]]
        record["grid_gold_prob"] = [json_number(p) for p in stats.gold_logprob[rows].exp()]
    return record


def _by_site(site_records: list[dict]) -> dict:
    """Turn one dict per site into one list per field (the JSON layout of an item)."""
    return {key: [record[key] for record in site_records] for key in site_records[0]}


def run_lens(
    model: TransformerBridge,
    prompts: list[AnalysisPrompt],
    sites: list[Site],
    top_k: int = 5,
    grid_items: int = 4,
    batch_size: int = 8,
    progress: bool = True,
    desc: str = "logit lens",
    positions: str = "answer",
    heatmap_prompt: str | None = None,
) -> list[dict]:
    """Per-prompt lens results of one model, in prompt order (see `logit_lens` for `positions`)."""
    require_fit(model, prompts)
    decode = _Decoder(model.tokenizer)
    device = next(model.parameters()).device  # the embedding's device, also under a device_map
    pad_id = model.tokenizer.pad_token_id or 0
    results: list[dict] = [{} for _ in prompts]
    gridded = {i for i, p in enumerate(prompts) if i < grid_items or p.id == heatmap_prompt}
    batches = iter_batches(prompts, batch_size, pad_id, device)
    with torch.inference_mode():
        for indices, batch in tqdm(
            batches, total=math.ceil(len(prompts) / batch_size), desc=desc, disable=not progress
        ):
            # reported in detail: the two slots of each prompt; the heatmap prompts' every row
            slots = decoded_rows(batch, [False] * len(indices))
            grid = decoded_rows(batch, [index in gridded for index in indices])
            rows = None if positions == "answer" else grid
            per_site, output = lens_batch(model, batch, sites, top_k, rows, slots, grid)
            for position, index in enumerate(indices):
                prompt, rows, grid = prompts[index], batch.span(position), index in gridded
                site_records = [
                    _prompt_record(prompt, rows, stats, decode, grid, positions == "answer")
                    for stats in per_site
                ]
                results[index] = {
                    **_by_site(site_records),
                    "output": _prompt_record(prompt, rows, output, decode, False),
                }
    return results


def _item(prompt: AnalysisPrompt, decode: _Decoder) -> dict:
    """One prompt's entry of the results' items, before any checkpoint's numbers."""
    return {
        "id": prompt.id,
        "question": prompt.question,
        "answer": prompt.answer,
        "target_kind": prompt.target_kind,
        "target_index": prompt.target_index,
        "target_token": decode(prompt.target_id),
        "answer_tokens": [decode(t) for t in prompt.answer_ids],
        "related_tokens": [decode(t) for t in prompt.related_ids],
        "checkpoints": {},
    }


def _meta(
    models: dict[str, TransformerBridge],
    records: list[QARecord],
    n_prompts: int,
    top_k: int,
    grid_items: int,
    positions: str,
    heatmap_prompt: str | None,
) -> dict:
    """The results' meta: models, data hash, settings, readout, precision and backends."""
    return {
        "analysis": "logit_lens",
        "models": {label: getattr(model, "checkpoint", label) for label, model in models.items()},
        "data_hash": hash_json([r.to_json() for r in records]),
        "n_prompts": n_prompts,
        "top_k": top_k,
        "grid_items": min(grid_items, n_prompts),
        "heatmap_prompt": heatmap_prompt,
        "positions": positions,
        "readout": {label: readout_description(model) for label, model in models.items()},
        "precision": {label: model_precision(model) for label, model in models.items()},
        "backend": {
            "lens": LENS_BACKEND,
            "target": "gold token at the knowledge slot (fact object's first token; else the answer's first token)",
            "related_mass": "probability on first tokens of the subject's other objects (from the fact triples)",
        },
        "versions": versions(),
    }


def logit_lens(
    models: dict[str, TransformerBridge],
    records: list[QARecord],
    context: list[QARecord] | None = None,
    layers: list[int] | None = None,
    mid: bool = False,
    top_k: int = 5,
    grid_items: int = 4,
    batch_size: int = 8,
    progress: bool = True,
    positions: str = "answer",
    heatmap_prompt: str | None = None,
) -> dict:
    """Logit lens of each checkpoint (label -> model) over `records`: results with meta, values and items.

    `context` supplies the entities' other facts for the related-token mass (default: `records`).
    `positions="answer"` decodes every gold answer position at every site (all numbers);
    `"slots"` decodes only the answer start and the knowledge slot (plus the heatmap prompts'
    grids), leaving the per-layer means over the whole answer out (None): with a large vocabulary
    and many layers, decoding every position costs more than the forward pass itself.
    `heatmap_prompt` (a record id; default the first) is the prompt of the cross-layer decoding
    figure: its layer × position grid is kept besides the first `grid_items` prompts'.
    """
    if positions not in POSITIONS:
        raise UserError(f"positions must be one of {', '.join(POSITIONS)}, got {positions!r}")
    require_same_tokenizer(models)
    first = next(iter(models.values()))
    prompts = build_prompts(first.tokenizer, records, context)
    ids = [p.id for p in prompts]
    if heatmap_prompt is not None and heatmap_prompt not in ids:
        shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise UserError(f"--prompt {heatmap_prompt!r} is not among the prompts ({shown})")
    sites = lens_sites(first, layers, mid)
    decode = _Decoder(first.tokenizer)
    items = [_item(p, decode) for p in prompts]
    checkpoints = {}
    for label, model in models.items():
        per_prompt = run_lens(
            model,
            prompts,
            sites,
            top_k,
            grid_items,
            batch_size,
            progress,
            desc=f"logit lens {label}",
            positions=positions,
            heatmap_prompt=heatmap_prompt,
        )
        for item, result in zip(items, per_prompt, strict=True):
            item["checkpoints"][label] = result
        checkpoints[label] = summarise(per_prompt, sites, model.cfg.n_layers)
    meta = _meta(models, records, len(prompts), top_k, grid_items, positions,
                 heatmap_prompt or next(iter(ids), None))  # fmt: skip
    return {
        "meta": meta,
        "values": {"sites": [s.to_json() for s in sites], "checkpoints": checkpoints},
        "items": items,
    }
