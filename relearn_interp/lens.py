"""Logit lens ("knowledge memory"): decode the residual stream after every layer into tokens.

Each site (`blocks.{l}.hook_resid_post`, optionally `hook_resid_mid`) is passed through the model's
own final norm and unembedding, as if the network stopped there. At every gold answer position
(teacher forcing) we record the gold token's probability and rank, the top-k decoded tokens and the
probability mass on subject-related tokens (see `relearn_interp.prompts`). Reverse-optimisation
unlearning that only suppresses late layers shows the gold token high in the middle and low at the
output ("suppressed late, not erased"); erased knowledge never rises.

Cost: one forward pass per batch with a cache of the chosen residual sites only, then the answer
positions (not the prompt) of all sites are decoded in row chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor
from tqdm.auto import tqdm
from transformer_lens.model_bridge import TransformerBridge

from relearn_interp.load import check_layer, require_same_tokenizer
from relearn_interp.prompts import (
    AnalysisPrompt,
    PromptBatch,
    answer_logits_kwargs,
    build_prompts,
    iter_batches,
    require_fit,
)
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import hash_json, versions

LENS_BACKEND = "logit lens: blocks.{l}.hook_resid_{post,mid} -> ln_final -> unembed (TransformerLens TransformerBridge)"
DECODE_BYTES = 64 * 2**20  # size of one chunk of decoded logits (float32)
TOP10 = 10
POSITIONS = ("answer", "slots")


@dataclass(frozen=True)
class Site:
    """A residual-stream point: after block `layer` ("post") or between its attention and MLP ("mid")."""

    layer: int
    kind: str = "post"

    @property
    def hook(self) -> str:
        return f"blocks.{self.layer}.hook_resid_{self.kind}"

    @property
    def label(self) -> str:
        return f"L{self.layer}" if self.kind == "post" else f"L{self.layer}.mid"

    @property
    def x(self) -> float:
        """Plot coordinate: the block index, half a block earlier for the mid-layer point."""
        return self.layer - 0.5 if self.kind == "mid" else float(self.layer)

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "layer": self.layer,
            "kind": self.kind,
            "x": self.x,
            "hook": self.hook,
        }


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


def decode_residual(
    model: TransformerBridge, resid: Float[Tensor, "... d_model"]
) -> Float[Tensor, "... d_vocab"]:
    """Logits of a residual-stream vector through the model's final norm and unembedding."""
    return model.unembed(model.ln_final(resid))


@dataclass
class TokenStats:
    """What the lens records at each decoded row (one site at one answer position)."""

    gold_logprob: Float[Tensor, " n"]
    gold_rank: Int[Tensor, " n"]  # 1 = the gold token is the top prediction
    top_ids: Int[Tensor, "n k"]
    top_probs: Float[Tensor, "n k"]
    related_mass: Float[Tensor, " n"]

    def cpu(self) -> TokenStats:
        return TokenStats(*(getattr(self, name).cpu() for name in self.__dataclass_fields__))

    def select(self, part: slice) -> TokenStats:
        return TokenStats(*(getattr(self, name)[part] for name in self.__dataclass_fields__))

    def spread(self, n_rows: int, rows: Int[Tensor, " m"]) -> TokenStats:
        """These stats of `rows` placed among `n_rows` rows; rows not decoded read NaN / 0 / -1."""
        full = []
        for name in self.__dataclass_fields__:
            values = getattr(self, name)
            fill = math.nan if values.is_floating_point() else (0 if name == "gold_rank" else -1)
            spread = torch.full((n_rows, *values.shape[1:]), fill, dtype=values.dtype)
            spread[rows] = values
            full.append(spread)
        return TokenStats(*full)

    @classmethod
    def cat(cls, parts: list[TokenStats]) -> TokenStats:
        return cls(
            *(torch.cat([getattr(p, name) for p in parts]) for name in cls.__dataclass_fields__)
        )


def token_stats(
    log_probs: Float[Tensor, "n d_vocab"],
    targets: Int[Tensor, " n"],
    related: Int[Tensor, "n r"],
    related_mask: Bool[Tensor, "n r"],
    top_k: int,
) -> TokenStats:
    """Gold log-probability and rank, top-k tokens and related-token mass of each row's distribution."""
    gold = log_probs.gather(1, targets[:, None])
    rank = (log_probs > gold).sum(1) + 1
    top_lp, top_ids = log_probs.topk(max(top_k, 1), dim=1)
    related_mass = (log_probs.gather(1, related).exp() * related_mask).sum(1)
    return TokenStats(gold[:, 0], rank, top_ids, top_lp.exp(), related_mass)


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


def lens_batch(
    model: TransformerBridge,
    batch: PromptBatch,
    sites: list[Site],
    top_k: int,
    rows: Int[Tensor, " m"] | None = None,
) -> tuple[list[TokenStats], TokenStats]:
    """Token stats at the answer positions (`rows`, default all) of each site, and of the output.

    The output's stats cover every answer position: the forward pass computes them anyway.
    """
    kwargs, columns = answer_logits_kwargs(model, batch)
    logits, cache = model.run_with_cache(
        batch.tokens, names_filter=[site.hook for site in sites], **kwargs
    )
    related, related_mask = related_rows(batch)
    output = token_stats(
        logits[batch.rows, columns].float().log_softmax(-1),
        batch.targets,
        related,
        related_mask,
        top_k,
    )
    n_rows = batch.rows.shape[0]
    rows = torch.arange(n_rows) if rows is None else rows
    on_device = rows.to(batch.rows.device)
    where = (batch.rows[on_device], batch.positions[on_device])
    resid = torch.stack([cache[site.hook][where] for site in sites])  # [site, m, d_model]
    del cache, logits
    n_decoded = resid.shape[1]
    flat = resid.reshape(-1, resid.shape[-1])
    chunk = max(1, DECODE_BYTES // (4 * model.cfg.d_vocab))
    parts = []
    for begin in range(0, flat.shape[0], chunk):
        stop = min(begin + chunk, flat.shape[0])
        index = on_device[torch.arange(begin, stop, device=flat.device) % n_decoded]
        log_probs = decode_residual(model, flat[begin:stop]).float().log_softmax(-1)
        parts.append(
            token_stats(log_probs, batch.targets[index], related[index], related_mask[index], top_k)
        )
    stats = TokenStats.cat(parts).cpu()
    per_site = [
        stats.select(slice(s * n_decoded, (s + 1) * n_decoded)).spread(n_rows, rows)
        for s in range(len(sites))
    ]
    return per_site, output.cpu()


def _num(value: float) -> float:
    return float(f"{float(value):.6g}")


def _num_or_none(value: float) -> float | None:
    """A number for the JSON, None where it was not computed (NaN)."""
    return None if math.isnan(float(value)) else _num(value)


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
        "target_prob": _num(math.exp(stats.gold_logprob[target])),
        "target_rank": int(stats.gold_rank[target]),
        "first_prob": _num(math.exp(stats.gold_logprob[rows.start])),
        "first_rank": int(stats.gold_rank[rows.start]),
        "answer_prob": _num_or_none(gold_logprob.exp().mean()),
        "answer_logprob": _num_or_none(gold_logprob.mean()),
        "related_mass": _num(stats.related_mass[target]) if prompt.related_ids else None,
        "top_tokens": [decode(int(t)) for t in stats.top_ids[target]],
        "top_probs": [_num(p) for p in stats.top_probs[target]],
    }
    if grid:
        record["grid_top_token"] = [decode(int(t)) for t in stats.top_ids[rows, 0]]
        record["grid_top_prob"] = [_num(p) for p in stats.top_probs[rows, 0]]
        record["grid_gold_prob"] = [_num(p) for p in stats.gold_logprob[rows].exp()]
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
) -> list[dict]:
    """Per-prompt lens results of one model, in prompt order (see `logit_lens` for `positions`)."""
    require_fit(model, prompts)
    decode = _Decoder(model.tokenizer)
    device = next(model.parameters()).device  # the embedding's device, also under a device_map
    pad_id = model.tokenizer.pad_token_id or 0
    results: list[dict] = [{} for _ in prompts]
    batches = iter_batches(prompts, batch_size, pad_id, device)
    with torch.inference_mode():
        for indices, batch in tqdm(
            batches, total=math.ceil(len(prompts) / batch_size), desc=desc, disable=not progress
        ):
            full = [positions == "answer" or index < grid_items for index in indices]
            rows = None if all(full) else decoded_rows(batch, full)
            per_site, output = lens_batch(model, batch, sites, top_k, rows)
            for position, index in enumerate(indices):
                prompt, rows, grid = prompts[index], batch.span(position), index < grid_items
                site_records = [
                    _prompt_record(prompt, rows, stats, decode, grid, positions == "answer")
                    for stats in per_site
                ]
                results[index] = {
                    **_by_site(site_records),
                    "output": _prompt_record(prompt, rows, output, decode, False),
                }
    return results


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return _num(np.mean(kept)) if kept else None


def _median(values: list[float]) -> float | None:
    return _num(np.median(values)) if values else None


def summarise(items: list[dict], sites: list[Site], n_layers: int) -> dict:
    """Per-site means over prompts, the output's, and the layer summaries of one checkpoint."""
    n_sites = len(sites)

    def column(field: str, s: int) -> list:
        return [item[field][s] for item in items]

    per_site = {
        "target_prob": [_mean(column("target_prob", s)) for s in range(n_sites)],
        "target_log10_rank": [
            _mean([math.log10(r) for r in column("target_rank", s)]) for s in range(n_sites)
        ],
        "target_rank_median": [_median(column("target_rank", s)) for s in range(n_sites)],
        "top1_rate": [_mean([r == 1 for r in column("target_rank", s)]) for s in range(n_sites)],
        "top10_rate": [
            _mean([r <= TOP10 for r in column("target_rank", s)]) for s in range(n_sites)
        ],
        "first_prob": [_mean(column("first_prob", s)) for s in range(n_sites)],
        "answer_prob": [_mean(column("answer_prob", s)) for s in range(n_sites)],
        "answer_logprob": [_mean(column("answer_logprob", s)) for s in range(n_sites)],
        "related_mass": [_mean(column("related_mass", s)) for s in range(n_sites)],
    }
    outputs = [item["output"] for item in items]
    output = {
        "target_prob": _mean([o["target_prob"] for o in outputs]),
        "target_log10_rank": _mean([math.log10(o["target_rank"]) for o in outputs]),
        "target_rank_median": _median([o["target_rank"] for o in outputs]),
        "top1_rate": _mean([o["target_rank"] == 1 for o in outputs]),
        "top10_rate": _mean([o["target_rank"] <= TOP10 for o in outputs]),
        "first_prob": _mean([o["first_prob"] for o in outputs]),
        "answer_prob": _mean([o["answer_prob"] for o in outputs]),
        "answer_logprob": _mean([o["answer_logprob"] for o in outputs]),
        "related_mass": _mean([o["related_mass"] for o in outputs]),
    }
    return {
        "per_site": per_site,
        "output": output,
        "summary": _layer_summary(items, sites, n_layers),
    }


def _first_x(ranks: list[int], xs: list[float], limit: int) -> float | None:
    return next((x for x, rank in zip(xs, ranks, strict=True) if rank <= limit), None)


def _layer_summary(items: list[dict], sites: list[Site], n_layers: int) -> dict:
    """Where the gold token surfaces, and whether it was higher inside the network than at the output."""
    xs = [site.x for site in sites]
    first_top1 = [_first_x(item["target_rank"], xs, 1) for item in items]
    first_top10 = [_first_x(item["target_rank"], xs, TOP10) for item in items]
    # inside: every decoded site except the output itself (the last block's resid_post)
    inside = [s for s, site in enumerate(sites) if site != Site(n_layers - 1, "post")]
    hidden = [
        item["output"]["target_rank"] > TOP10
        and any(item["target_rank"][s] <= TOP10 for s in inside)
        for item in items
    ]
    with_related = [item for item in items if item["output"]["related_mass"] is not None]
    return {
        "first_top1_layer_median": _median([x for x in first_top1 if x is not None]),
        "reach_top1_fraction": _mean([x is not None for x in first_top1]),
        "first_top10_layer_median": _median([x for x in first_top10 if x is not None]),
        "reach_top10_fraction": _mean([x is not None for x in first_top10]),
        "max_target_prob": _mean([max(item["target_prob"]) for item in items]),
        "max_target_layer_median": _median(
            [xs[int(np.argmax(item["target_prob"]))] for item in items]
        ),
        "output_target_prob": _mean([item["output"]["target_prob"] for item in items]),
        "hidden_top10_fraction": _mean(hidden),
        "max_related_mass": _mean([max(item["related_mass"]) for item in with_related]),
        "output_related_mass": _mean([item["output"]["related_mass"] for item in with_related]),
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
) -> dict:
    """Logit lens of each checkpoint (label -> model) over `records`: results with meta, values and items.

    `context` supplies the entities' other facts for the related-token mass (default: `records`).
    `positions="answer"` decodes every gold answer position at every site (all numbers);
    `"slots"` decodes only the answer start and the knowledge slot (plus the heatmap prompts'
    grids), leaving the per-layer means over the whole answer out (None): with a large vocabulary
    and many layers, decoding every position costs more than the forward pass itself.
    """
    if positions not in POSITIONS:
        raise UserError(f"positions must be one of {', '.join(POSITIONS)}, got {positions!r}")
    require_same_tokenizer(models)
    first = next(iter(models.values()))
    prompts = build_prompts(first.tokenizer, records, context)
    sites = lens_sites(first, layers, mid)
    decode = _Decoder(first.tokenizer)
    items = [
        {
            "id": p.id,
            "question": p.question,
            "answer": p.answer,
            "target_kind": p.target_kind,
            "target_index": p.target_index,
            "target_token": decode(p.target_id),
            "answer_tokens": [decode(t) for t in p.answer_ids],
            "related_tokens": [decode(t) for t in p.related_ids],
            "checkpoints": {},
        }
        for p in prompts
    ]
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
        )
        for item, result in zip(items, per_prompt, strict=True):
            item["checkpoints"][label] = result
        checkpoints[label] = summarise(per_prompt, sites, model.cfg.n_layers)
    meta = {
        "analysis": "logit_lens",
        "models": {label: getattr(model, "checkpoint", label) for label, model in models.items()},
        "data_hash": hash_json([r.to_json() for r in records]),
        "n_prompts": len(prompts),
        "top_k": top_k,
        "grid_items": min(grid_items, len(prompts)),
        "positions": positions,
        "backend": {
            "lens": LENS_BACKEND,
            "target": "gold token at the knowledge slot (fact object's first token; else the answer's first token)",
            "related_mass": "probability on first tokens of the subject's other objects (from the fact triples)",
        },
        "versions": versions(),
    }
    return {
        "meta": meta,
        "values": {"sites": [s.to_json() for s in sites], "checkpoints": checkpoints},
        "items": items,
    }
