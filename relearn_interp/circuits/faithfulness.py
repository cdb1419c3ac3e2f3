"""Patched runs: the clean prompts with every edge outside a circuit patched to its corrupted value.

The residual stream is a sum of writer outputs, so each reader's input is rebuilt exactly: for
every excluded edge u → v, v reads a_corrupt(u) instead of the live a(u) of the patched run
(input_v += Σ_excluded (a_corrupt(u) − a_live(u))). The full graph gives the clean run and the
empty graph the corrupted run (both checked by the tests). Every run returns one metric value per
pair, so normalised faithfulness and its bootstrap are computed later (`sizing`).

Cost: as the writers fire, their differences d_u = a_corrupt(u) − a_live(u) are stored and summed
(P = Σ d_u over the writers so far). A reader then needs Σ over its excluded writers, which is
P − Σ over its included writers: whichever of the two sets is smaller is gathered, so small
circuits (few included rows) and large ones (few excluded rows) are both cheap. The q, k and v
readers of a layer share one product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Bool, Float
from torch import Tensor
from tqdm.auto import tqdm

from relearn_interp.circuits.attribute import as_rows, model_dtype, reader_specs, writer_specs
from relearn_interp.circuits.graph import Graph, edge_hooks, without_split_inputs
from relearn_interp.circuits.metrics import clean_reference, metric_per_pair
from relearn_interp.circuits.pairs import Batch


@dataclass
class PatchedRuns:
    """The metric of each pair on the clean run, the corrupted run and each circuit's run."""

    metric: str
    clean: Float[np.ndarray, " pair"]
    corrupted: Float[np.ndarray, " pair"]
    circuits: Float[np.ndarray, "circuit pair"]
    n_edges: list[int]

    @property
    def gap(self) -> Float[np.ndarray, " pair"]:
        """Each pair's clean − corrupted metric: the effect a circuit has to carry."""
        return self.clean - self.corrupted


def _capture(buffer: Tensor, first_row: int) -> Callable[..., None]:
    def hook(tensor: Tensor, hook) -> None:
        rows = as_rows(tensor.detach())
        buffer[first_row : first_row + rows.shape[0]] = rows

    return hook


class _Plan:
    """How one group of readers (a layer's q, k and v, or one MLP, or the logits) is patched."""

    def __init__(self, excluded: Bool[Tensor, "visible readers"]) -> None:
        exc_rows = excluded.any(1).nonzero().flatten()
        inc_rows = (~excluded).any(1).nonzero().flatten()
        self.active = bool(exc_rows.numel())
        self.complement = inc_rows.numel() < exc_rows.numel()
        rows = inc_rows if self.complement else exc_rows
        self.rows = rows
        self.full = not self.complement and rows.numel() == excluded.shape[0]
        chosen = ~excluded if self.complement else excluded
        self.weights = chosen[rows].T  # [readers, rows]


class _PatchedPass:
    """The hooks of one patched run of one batch for one circuit."""

    def __init__(self, graph: Graph, corrupted: Tensor, excluded: Bool[Tensor, "up down"]) -> None:
        self.graph, self.corrupted = graph, corrupted
        self.delta = torch.empty_like(corrupted)  # a_corrupt − a_live, filled as writers fire
        self.prefix = torch.zeros_like(corrupted[0])  # Σ of the rows of delta filled so far
        self.plans: dict[tuple[int, int], _Plan] = {}
        self.cached: dict[tuple[int, int], Tensor] = {}
        for _, cols, visible in reader_specs(graph):
            group = self._group(cols, visible)
            if group not in self.plans:
                self.plans[group] = _Plan(excluded[:visible, group[0] : group[1]])

    def _group(self, cols: slice, visible: int) -> tuple[int, int]:
        """The columns patched together: q, k and v of a layer read the same writers."""
        if self.graph.downstream_kinds[cols.start] in ("q", "k", "v"):
            layer = self.graph.down_layer(cols.start)
            return self.graph.q_cols(layer).start, self.graph.v_cols(layer).stop
        return cols.start, cols.stop

    def writer(self, first_row: int) -> Callable[..., None]:
        def hook(tensor: Tensor, hook) -> None:
            rows = as_rows(tensor.detach())
            stop = first_row + rows.shape[0]
            torch.sub(self.corrupted[first_row:stop], rows, out=self.delta[first_row:stop])
            self.prefix += self.delta[first_row:stop].sum(0)

        return hook

    def _correction(self, group: tuple[int, int], visible: int) -> Tensor:
        """Σ over excluded writers of delta, for every reader of the group: [readers, b, p, d]."""
        if group not in self.cached:
            plan = self.plans[group]
            if plan.full:
                rows = self.delta[:visible]
            else:
                rows = self.delta.index_select(0, plan.rows.to(self.delta.device))
            flat = rows.reshape(rows.shape[0], self.prefix.numel())
            product = plan.weights.to(flat.device, flat.dtype) @ flat
            if plan.complement:
                product = self.prefix.reshape(1, -1) - product
            self.cached[group] = product.reshape(-1, *self.delta.shape[1:])
        return self.cached[group]

    def reader(self, cols: slice, visible: int) -> Callable[..., Tensor | None] | None:
        group = self._group(cols, visible)
        if not self.plans[group].active:
            return None

        def hook(tensor: Tensor, hook) -> Tensor:
            correction = self._correction(group, visible)
            part = correction[cols.start - group[0] : cols.stop - group[0]]
            return tensor + (part.permute(1, 2, 0, 3) if tensor.ndim == 4 else part[0])

        return hook

    def hooks(self) -> list[tuple[str, Callable[..., Tensor | None]]]:
        hooks: list = [(name, self.writer(row)) for name, row in writer_specs(self.graph)]
        for name, cols, visible in reader_specs(self.graph):
            hook = self.reader(cols, visible)
            if hook is not None:
                hooks.append((name, hook))
        return hooks


def run_circuits(
    model,
    batches: Sequence[Batch],
    masks: Sequence[Bool[Tensor, "up down"]],
    metric: str = "logit_diff",
    progress: bool = True,
) -> PatchedRuns:
    """The metric of each pair on the clean run, the corrupted run and each circuit in `masks`."""
    graph = Graph.from_model(model)
    dtype = model_dtype(model)
    device = batches[0].clean.device
    excluded = [(graph.allowed & ~mask.cpu()).to(device) for mask in masks]
    clean, corrupted_values = [], []
    circuits: list[list[Tensor]] = [[] for _ in masks]
    with torch.no_grad(), edge_hooks(model):
        for batch in tqdm(batches, desc="patched runs", disable=not progress, leave=False):
            shape = (graph.n_upstream, batch.size, batch.n_positions, model.cfg.d_model)
            corrupted = torch.empty(shape, dtype=dtype, device=device)
            with without_split_inputs(model):
                clean_logits = model(batch.clean)
            reference = clean_reference(metric, clean_logits, batch)
            clean.append(metric_per_pair(metric, clean_logits, batch, reference))
            capture = [(name, _capture(corrupted, row)) for name, row in writer_specs(graph)]
            with without_split_inputs(model), model.hooks(fwd_hooks=capture):
                logits = model(batch.corrupted)
            corrupted_values.append(metric_per_pair(metric, logits, batch, reference))
            for index, mask_excluded in enumerate(excluded):
                patched = _PatchedPass(graph, corrupted, mask_excluded)
                with model.hooks(fwd_hooks=patched.hooks()):
                    logits = model(batch.clean)
                circuits[index].append(metric_per_pair(metric, logits, batch, reference))
                del patched
    n_pairs = sum(batch.size for batch in batches)
    values = np.zeros((len(masks), n_pairs))
    for index, per_batch in enumerate(circuits):
        values[index] = torch.cat(per_batch).cpu().numpy()
    return PatchedRuns(
        metric=metric,
        clean=torch.cat(clean).cpu().numpy().astype(float),
        corrupted=torch.cat(corrupted_values).cpu().numpy().astype(float),
        circuits=values,
        n_edges=[int(mask.sum()) for mask in masks],
    )
