"""Faithfulness: run the clean prompts with every edge outside the circuit patched to its corrupted value.

The residual stream is a sum of writer outputs, so each reader's input is rebuilt exactly: for
every excluded edge u → v, v reads a_corrupt(u) instead of the live a(u) of the patched run
(input_v += Σ_excluded (a_corrupt(u) − a_live(u))). The full graph gives the clean run and the
empty graph the corrupted run. Reported per circuit: the metric, its ratio to the full model's
(`faithfulness`), and the fraction of the clean−corrupted gap it recovers (`recovered`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Bool
from torch import Tensor
from tqdm.auto import tqdm

from relearn_interp.circuits.attribute import (
    as_rows,
    last_logits,
    metric_per_pair,
    model_dtype,
    reader_specs,
    writer_specs,
)
from relearn_interp.circuits.graph import Graph, edge_hooks, without_split_inputs
from relearn_interp.circuits.pairs import Batch


@dataclass
class Faithfulness:
    """Metric of the full model, the corrupted run, and each circuit (means over pairs)."""

    metric: str
    full: float
    corrupted: float
    n_edges: list[int]
    circuit: list[float]

    def ratio(self, value: float) -> float | None:
        """Circuit metric over full-model metric (None when the full metric is 0, e.g. KL)."""
        return value / self.full if abs(self.full) > 1e-12 else None

    def recovered(self, value: float) -> float | None:
        """(circuit − corrupted) / (full − corrupted): 1 = as the clean run, 0 = as the corrupted run."""
        gap = self.full - self.corrupted
        return (value - self.corrupted) / gap if abs(gap) > 1e-12 else None

    def to_json(self) -> dict:
        return {
            "metric": self.metric,
            "full_model": self.full,
            "corrupted": self.corrupted,
            "curve": [
                {
                    "n_edges": n,
                    "metric": value,
                    "faithfulness": self.ratio(value),
                    "recovered": self.recovered(value),
                }
                for n, value in zip(self.n_edges, self.circuit, strict=True)
            ],
        }


def _capture(buffer: Tensor, first_row: int) -> Callable[..., None]:
    def hook(tensor: Tensor, hook) -> None:
        rows = as_rows(tensor.detach())
        buffer[first_row : first_row + rows.shape[0]] = rows

    return hook


def _patch(
    excluded: Tensor, corrupted: Tensor, live: Tensor, cols: slice, visible: int
) -> Callable[..., Tensor | None]:
    """Reader hook: add Σ over excluded upstream u of (a_corrupt(u) − a_live(u))."""
    weights = excluded[:visible, cols].to(corrupted.dtype)  # [visible, readers]
    if not bool(weights.any()):
        return lambda tensor, hook: None

    def hook(tensor: Tensor, hook) -> Tensor:
        delta = (corrupted[:visible] - live[:visible]).reshape(visible, -1)
        correction = (weights.T @ delta).reshape(weights.shape[1], *corrupted.shape[1:])
        return tensor + (correction.permute(1, 2, 0, 3) if tensor.ndim == 4 else correction[0])

    return hook


def evaluate_circuits(
    model,
    batches: Sequence[Batch],
    masks: Sequence[Bool[Tensor, "up down"]],
    metric: str = "logit_diff",
    progress: bool = True,
) -> Faithfulness:
    """The metric of the full model, of the corrupted run, and of each circuit in `masks`."""
    graph = Graph.from_model(model)
    dtype = model_dtype(model)
    device = batches[0].clean.device
    excluded = [(graph.allowed & ~mask.cpu()).to(device) for mask in masks]
    full = corrupted_total = 0.0
    totals = [0.0] * len(masks)
    with torch.no_grad(), edge_hooks(model):
        for batch in tqdm(batches, desc="faithfulness", disable=not progress, leave=False):
            shape = (graph.n_upstream, batch.size, batch.n_positions, model.cfg.d_model)
            corrupted, live = (torch.empty(shape, dtype=dtype, device=device) for _ in range(2))
            with without_split_inputs(model):
                clean_logits = model(batch.clean)
            clean_logprobs = (
                last_logits(clean_logits, batch).log_softmax(-1) if metric == "kl" else None
            )
            full += float(metric_per_pair(metric, clean_logits, batch, clean_logprobs).sum())
            with (
                without_split_inputs(model),
                model.hooks(
                    fwd_hooks=[
                        (name, _capture(corrupted, row)) for name, row in writer_specs(graph)
                    ]
                ),
            ):
                logits = model(batch.corrupted)
            corrupted_total += float(metric_per_pair(metric, logits, batch, clean_logprobs).sum())
            capture = [(name, _capture(live, row)) for name, row in writer_specs(graph)]
            for index, mask_excluded in enumerate(excluded):
                patches = [
                    (name, _patch(mask_excluded, corrupted, live, cols, visible))
                    for name, cols, visible in reader_specs(graph)
                ]
                with model.hooks(fwd_hooks=capture + patches):
                    logits = model(batch.clean)
                totals[index] += float(metric_per_pair(metric, logits, batch, clean_logprobs).sum())
    n_pairs = sum(batch.size for batch in batches)
    return Faithfulness(
        metric=metric,
        full=full / n_pairs,
        corrupted=corrupted_total / n_pairs,
        n_edges=[int(mask.sum()) for mask in masks],
        circuit=[total / n_pairs for total in totals],
    )


def curve_sizes(n_edges: int, points: int = 12) -> list[int]:
    """Edge counts for the faithfulness curve: 0, then log-spaced up to every edge."""
    if n_edges <= 0:
        return [0]
    grid = torch.logspace(0, torch.log10(torch.tensor(float(n_edges))), steps=max(points - 1, 1))
    return sorted({0, n_edges, *(int(round(float(x))) for x in grid)})
