"""Summaries of logit-lens results: per-site means over prompts, the output's, and where the gold
token surfaces across layers (one checkpoint at a time, from its per-prompt records)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from unlearn.io import json_number

TOP10 = 10


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


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return json_number(np.mean(kept)) if kept else None


def _median(values: list[float]) -> float | None:
    return json_number(np.median(values)) if values else None


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
