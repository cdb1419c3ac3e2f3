"""Edge attribution patching: EAP and EAP-IG scores for every edge of the graph at once.

Sign convention (noising): score(u → v) = Σ over pairs and positions of
(a_corrupt(u) − a_clean(u)) · ∂metric/∂input(v), the gradient taken on the clean run (EAP) or
averaged over inputs interpolated from the corrupted to the clean embeddings (EAP-IG). It is the
first-order estimate of metric(clean with only edge u → v corrupted) − metric(clean), divided by
the number of pairs. With the logit-difference metric an edge the model needs has a *negative*
score; rank edges by |score|. (TransformerLens's `attribution_patch` uses the opposite, denoising,
convention; its scores on swapped clean/corrupted inputs equal ours.)

Cost: one corrupted forward, then per gradient step one forward and one backward of the clean
prompts. The writers' differences are kept in one [n_upstream, batch, positions, d_model] tensor;
each reader's gradient is consumed in its backward hook by one matmul against the writers before
it, so no gradient is stored. To fit a large model, the difference tensor can be split by upstream
layers and/or positions (each chunk reruns the passes; see docs/knowledge-circuits.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from jaxtyping import Float
from torch import Tensor
from tqdm.auto import tqdm

from relearn_interp.circuits.graph import (
    EMBED_HOOK,
    FINAL_RESID_HOOK,
    Graph,
    edge_hooks,
    head_result_hook,
    mlp_in_hook,
    mlp_out_hook,
    qkv_input_hook,
    without_split_inputs,
)
from relearn_interp.circuits.metrics import METRICS, clean_reference, metric_per_pair
from relearn_interp.circuits.pairs import Batch
from unlearn.errors import UserError

METHODS = ("eap", "eap-ig")
DEFAULT_IG_STEPS = 5


@dataclass
class EdgeScores:
    """Scores of every edge (zeros where no edge exists), averaged over the pairs.

    `subject_scores` is the part of each score read at the subject positions (where the clean and
    corrupted prompts differ): the entity-related share of an edge. `per_pair` (kept in memory
    only, when asked for) holds each pair's own scores, in the order of `pair_ids`.
    """

    graph: Graph
    scores: Float[Tensor, "up down"]
    subject_scores: Float[Tensor, "up down"] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    per_pair: Float[Tensor, "pair up down"] | None = None
    pair_ids: list[str] = field(default_factory=list)

    def save(self, path: str | Path) -> Path:
        """Save as a compressed .npz (arrays plus the graph shape and meta as JSON)."""
        arrays = {"scores": self.scores.cpu().numpy()}
        if self.subject_scores is not None:
            arrays["subject_scores"] = self.subject_scores.cpu().numpy()
        shape = {
            "n_layers": self.graph.n_layers,
            "n_heads": self.graph.n_heads,
            "n_kv_heads": self.graph.n_kv_heads,
        }
        header = json.dumps({"graph": shape, "meta": self.meta}, default=str)
        with open(path, "wb") as handle:
            np.savez_compressed(handle, header=np.array(header), **arrays)
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> EdgeScores:
        with np.load(path) as data:
            header = json.loads(str(data["header"]))
            subject = torch.from_numpy(data["subject_scores"]) if "subject_scores" in data else None
            return cls(
                Graph(**header["graph"]), torch.from_numpy(data["scores"]), subject, header["meta"]
            )


def model_dtype(model) -> torch.dtype:
    """The dtype of the bridge's weights and activations."""
    dtype = getattr(model.cfg, "dtype", None)
    return dtype if isinstance(dtype, torch.dtype) else next(model.parameters()).dtype


def as_rows(tensor: Tensor) -> Tensor:
    """A writer output or reader gradient as [nodes, batch, pos, d_model]."""
    return tensor.permute(2, 0, 1, 3) if tensor.ndim == 4 else tensor.unsqueeze(0)


def writer_specs(graph: Graph) -> list[tuple[str, int]]:
    """(hook name, first upstream row) of every writer hook, in forward order."""
    specs = [(EMBED_HOOK, 0)]
    for layer in range(graph.n_layers):
        specs += [
            (head_result_hook(layer), graph.head_row(layer, 0)),
            (mlp_out_hook(layer), graph.mlp_row(layer)),
        ]
    return specs


def reader_specs(graph: Graph) -> list[tuple[str, slice, int]]:
    """(hook name, downstream columns, number of upstream rows visible) of every reader hook."""
    specs = []
    for layer in range(graph.n_layers):
        attention = graph.visible_to_attention(layer)
        specs += [
            (qkv_input_hook(layer, "q"), graph.q_cols(layer), attention),
            (qkv_input_hook(layer, "k"), graph.k_cols(layer), attention),
            (qkv_input_hook(layer, "v"), graph.v_cols(layer), attention),
            (
                mlp_in_hook(layer),
                slice(graph.mlp_col(layer), graph.mlp_col(layer) + 1),
                graph.visible_to_mlp(layer),
            ),
        ]
    return [
        *specs,
        (FINAL_RESID_HOOK, slice(graph.logits_col, graph.logits_col + 1), graph.n_upstream),
    ]


def row_chunks(graph: Graph, layers_per_chunk: int | None) -> list[slice]:
    """Upstream rows split into chunks of whole layers (the input embedding goes with layer 0)."""
    if layers_per_chunk is None or layers_per_chunk >= graph.n_layers:
        return [slice(0, graph.n_upstream)]
    if layers_per_chunk < 1:
        raise UserError(f"layers per chunk must be at least 1, got {layers_per_chunk}")
    chunks = []
    for first in range(0, graph.n_layers, layers_per_chunk):
        last = min(first + layers_per_chunk, graph.n_layers) - 1
        start = 0 if first == 0 else graph.head_row(first, 0)
        chunks.append(slice(start, graph.mlp_row(last) + 1))
    return chunks


def position_chunks(n_positions: int, per_chunk: int | None) -> list[slice]:
    if per_chunk is None or per_chunk >= n_positions:
        return [slice(0, n_positions)]
    if per_chunk < 1:
        raise UserError(f"positions per chunk must be at least 1, got {per_chunk}")
    return [
        slice(start, min(start + per_chunk, n_positions))
        for start in range(0, n_positions, per_chunk)
    ]


def diff_tensor_bytes(graph: Graph, n_tokens: int, d_model: int, dtype: torch.dtype) -> int:
    """Size of the activation-difference tensor for `n_tokens` (pairs × positions) tokens."""
    return graph.n_upstream * n_tokens * d_model * torch.empty((), dtype=dtype).element_size()


class _ChunkPass:
    """One chunk (upstream rows × positions) of one batch: the writer differences and the hooks."""

    def __init__(
        self,
        model,
        graph: Graph,
        batch: Batch,
        rows: slice,
        positions: slice,
        totals: _Totals,
        first_pair: int,
    ) -> None:
        self.model, self.graph, self.batch = model, graph, batch
        self.rows, self.positions = rows, positions
        self.totals, self.first_pair = totals, first_pair
        dtype = model_dtype(model)
        n_pos = positions.stop - positions.start
        # [batch, rows, pos, d]: one batched matmul per layer gives every pair's own scores
        self.diff = torch.zeros(
            batch.size,
            rows.stop - rows.start,
            n_pos,
            model.cfg.d_model,
            dtype=dtype,
            device=batch.clean.device,
        )
        subject = batch.subject[:, positions].to(dtype)
        self.subject = subject[None, :, :, None]
        self.corrupted_embed: Tensor | None = None
        self.weight = 1.0
        self.fired: set[str] = set()
        self.pending: dict[int, list[tuple[slice, Tensor]]] = {}
        self.readers_at: dict[int, int] = {}
        for _, _, visible in reader_specs(graph):
            self.readers_at[visible] = self.readers_at.get(visible, 0) + 1

    def store(self, first_row: int, sign: float) -> Callable[..., None]:
        def hook(tensor: Tensor, hook) -> None:
            rows = as_rows(tensor.detach())[:, :, self.positions]
            lo, hi = max(first_row, self.rows.start), min(first_row + rows.shape[0], self.rows.stop)
            if lo < hi:
                self.diff[:, lo - self.rows.start : hi - self.rows.start].add_(
                    rows[lo - first_row : hi - first_row].transpose(0, 1), alpha=sign
                )

        return hook

    def writer_hooks(self, sign: float) -> list[tuple[str, Callable[..., None]]]:
        return [(name, self.store(row, sign)) for name, row in writer_specs(self.graph)]

    def _collect(self, cols: slice, visible: int, grad: Tensor) -> None:
        """Gather a layer's q, k and v gradients (they read the same writers) and score them at once."""
        waiting = self.pending.setdefault(visible, [])
        waiting.append((cols, as_rows(grad.detach())[:, :, self.positions]))
        if len(waiting) == self.readers_at[visible]:
            del self.pending[visible]
            self._accumulate(visible, sorted(waiting, key=lambda item: item[0].start))

    def _accumulate(self, visible: int, readers: list[tuple[slice, Tensor]]) -> None:
        """scores[writers before, readers] += diff · grad, one batched matmul per pair."""
        hi = min(self.rows.stop, visible)
        if hi <= self.rows.start:
            return
        # q, k and v columns of a layer are contiguous: one block [start, stop)
        start, stop = readers[0][0].start, readers[-1][0].stop
        grads = torch.cat([grad for _, grad in readers]).to(self.diff.dtype)  # [readers, b, p, d]
        if self.totals.subject is not None:
            grads = torch.cat([grads, grads * self.subject])
        n_rows, (n_readers, size, n_pos, width) = hi - self.rows.start, grads.shape
        diff = self.diff[:, :n_rows].reshape(size, n_rows, n_pos * width)
        grads = grads.permute(1, 2, 3, 0).reshape(size, n_pos * width, n_readers)
        product = self.weight * torch.bmm(diff, grads).float()  # [b, rows, readers]
        self.totals.add(self, slice(self.rows.start, hi), slice(start, stop), product)

    def reader_hooks(self) -> list[tuple[str, Callable[..., Tensor]]]:
        def make(name: str, cols: slice, visible: int) -> Callable[..., Tensor]:
            def hook(tensor: Tensor, hook) -> Tensor:
                if not tensor.requires_grad:
                    raise RuntimeError(
                        f"{name} does not require grad; the edge gradient cannot be read there"
                    )
                self.fired.add(name)
                # A fresh view: the bridge hands hook_mlp_in the residual tensor itself, so a
                # hook on that tensor would also collect the gradient of the residual path.
                branch = tensor.view_as(tensor)
                branch.register_hook(lambda grad: self._collect(cols, visible, grad))
                return branch

            return hook

        return [
            (name, make(name, cols, visible)) for name, cols, visible in reader_specs(self.graph)
        ]


@dataclass
class _Totals:
    """Running sums of the scores (and their subject part, and each pair's own scores)."""

    scores: Tensor
    subject: Tensor | None
    per_pair: Tensor | None

    def add(self, run: _ChunkPass, rows: slice, cols: slice, product: Tensor) -> None:
        """Add a [batch, rows, readers (then their subject parts)] product of one chunk pass."""
        n = cols.stop - cols.start
        self.scores[rows, cols] += product[:, :, :n].sum(0)
        if self.subject is not None:
            self.subject[rows, cols] += product[:, :, n:].sum(0)
        if self.per_pair is not None:
            pairs = slice(run.first_pair, run.first_pair + product.shape[0])
            self.per_pair[pairs, rows, cols] += product[:, :, :n]


def _gradient_pass(
    run: _ChunkPass, metric: str, alpha: float, first: bool, clean_logprobs: Tensor | None
) -> Tensor:
    """One forward of the clean prompts (embeddings interpolated by alpha) and one backward."""
    model, batch = run.model, run.batch
    leaves: list[Tensor] = []
    store_clean = run.store(0, -1.0)

    def embed_hook(tensor: Tensor, hook) -> Tensor:
        if first:
            store_clean(tensor, hook)
        if alpha != 1.0:
            tensor = tensor + (1.0 - alpha) * (run.corrupted_embed - tensor)
        leaf = tensor.detach().requires_grad_(True)
        leaves.append(leaf)
        return leaf

    hooks = [(EMBED_HOOK, embed_hook), *run.reader_hooks()]
    if first:
        hooks += [spec for spec in run.writer_hooks(-1.0) if spec[0] != EMBED_HOOK]
    run.fired.clear()
    with torch.enable_grad():
        with model.hooks(fwd_hooks=hooks):
            logits = model(batch.clean)
        if first:
            clean_logprobs = clean_reference(metric, logits, batch)
        value = metric_per_pair(metric, logits, batch, clean_logprobs).sum()
        torch.autograd.grad(value, leaves[0])
    missing = {name for name, _, _ in reader_specs(run.graph)} - run.fired
    if missing or run.pending:
        unscored = sorted(missing) or sorted(run.pending)
        raise RuntimeError(
            f"edge gradients were not all read (e.g. {unscored[:3]}); unsupported block layout"
        )
    return clean_logprobs


def attribute(
    model,
    batches: Sequence[Batch],
    method: str = "eap-ig",
    metric: str = "logit_diff",
    ig_steps: int = DEFAULT_IG_STEPS,
    layers_per_chunk: int | None = None,
    positions_per_chunk: int | None = None,
    subject: bool = True,
    per_pair: bool = False,
    progress: bool = True,
) -> EdgeScores:
    """Score every edge with EAP or EAP-IG, averaged over the pairs of `batches` (and, with
    `per_pair`, for each pair: n_pairs × n_upstream × n_downstream floats)."""
    if method not in METHODS:
        raise UserError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r}; valid: {', '.join(METRICS)}")
    if method == "eap" and metric == "kl":
        raise UserError(
            "EAP takes the gradient at the clean run, where KL to the clean run has zero gradient; use --method eap-ig with kl"
        )
    if ig_steps < 1:
        raise UserError(f"ig steps must be at least 1, got {ig_steps}")
    graph = Graph.from_model(model)
    device = batches[0].clean.device
    n_pairs = sum(batch.size for batch in batches)
    shape = (graph.n_upstream, graph.n_downstream)
    totals = _Totals(
        scores=torch.zeros(shape, device=device),
        subject=torch.zeros(shape, device=device) if subject else None,
        per_pair=torch.zeros((n_pairs, *shape), device=device) if per_pair else None,
    )
    alphas = [1.0] if method == "eap" else [step / ig_steps for step in range(ig_steps, 0, -1)]
    chunks = row_chunks(graph, layers_per_chunk)
    first_pair = 0
    with edge_hooks(model):
        for batch in tqdm(batches, desc=f"{method} scores", disable=not progress, leave=False):
            for rows in chunks:
                for positions in position_chunks(batch.n_positions, positions_per_chunk):
                    run = _ChunkPass(model, graph, batch, rows, positions, totals, first_pair)
                    _score_chunk(run, metric, alphas)
            first_pair += batch.size
    allowed = graph.allowed.to(device)
    scores = torch.where(allowed, totals.scores / n_pairs, 0.0).cpu()
    subject_scores = None
    if totals.subject is not None:
        subject_scores = torch.where(allowed, totals.subject / n_pairs, 0.0).cpu()
    pairs = None if totals.per_pair is None else torch.where(allowed, totals.per_pair, 0.0).cpu()
    meta = {
        "method": method,
        "metric": metric,
        "ig_steps": len(alphas) if method == "eap-ig" else 1,
        "n_pairs": n_pairs,
        "sign": "noising: metric(edge corrupted) - metric(clean), first order",
    }
    return EdgeScores(graph, scores, subject_scores, meta, per_pair=pairs)


def _score_chunk(run: _ChunkPass, metric: str, alphas: list[float]) -> None:
    corrupted_embed: list[Tensor] = []
    hooks = [
        *run.writer_hooks(+1.0),
        (EMBED_HOOK, lambda tensor, hook: corrupted_embed.append(tensor.detach())),
    ]
    with torch.no_grad(), without_split_inputs(run.model), run.model.hooks(fwd_hooks=hooks):
        run.model(run.batch.corrupted)
    run.corrupted_embed = corrupted_embed[0]
    run.weight = 1.0 / len(alphas)
    clean_logprobs = None
    for step, alpha in enumerate(alphas):
        clean_logprobs = _gradient_pass(run, metric, alpha, step == 0, clean_logprobs)
