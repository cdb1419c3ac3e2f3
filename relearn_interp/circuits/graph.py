"""The computational graph of a decoder: nodes, edges and one dense score matrix.

Upstream nodes (writers into the residual stream) are the input embedding, every attention head
`a{l}.h{h}` and every MLP `m{l}`. Downstream nodes (readers of the residual stream) are the
query input of every head `a{l}.h{h}<q>`, the key and value inputs of every key/value head
`a{l}.kv{g}<k>` / `a{l}.kv{g}<v>`, every MLP input `m{l}` and the logits. An edge u → v exists
when u writes before v reads; all edges live in one [n_upstream, n_downstream] matrix with a
boolean mask of the edges that exist (like EAP-IG's graph, not millions of Python objects).

Grouped-query attention: a key/value head serves `n_heads / n_kv_heads` query heads, and the
bridge's split inputs (`hook_k_input`, `hook_v_input`) are per key/value head. So k and v edges
are scored once per key/value head: the gradient at that hook already sums the contributions of
every query head in the group, and nothing is expanded or counted twice. With multi-head
attention (n_kv_heads == n_heads) `a{l}.kv{g}` is simply head g.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import torch
from jaxtyping import Bool
from torch import Tensor

from unlearn.errors import UserError

EDGE_KINDS = ("q", "k", "v", "mlp", "logits")


@dataclass(frozen=True)
class Graph:
    """Shape of the edge graph of one model: layers, query heads and key/value heads."""

    n_layers: int
    n_heads: int
    n_kv_heads: int

    def __post_init__(self) -> None:
        if self.n_kv_heads < 1 or self.n_heads % self.n_kv_heads:
            raise UserError(
                f"{self.n_heads} query heads cannot be grouped over {self.n_kv_heads} key/value heads"
            )

    @classmethod
    def from_model(cls, model) -> Graph:
        """The graph of a TransformerBridge (reads n_layers, n_heads, n_key_value_heads)."""
        cfg = model.cfg
        if getattr(cfg, "parallel_attn_mlp", False):
            raise UserError(
                "parallel attention/MLP blocks are not supported by the circuit graph (Llama-style blocks are)"
            )
        n_kv = getattr(cfg, "n_key_value_heads", None) or cfg.n_heads
        return cls(int(cfg.n_layers), int(cfg.n_heads), int(n_kv))

    # ---- sizes and index arithmetic -------------------------------------------------------
    @property
    def group_size(self) -> int:
        """Query heads per key/value head (1 without grouped-query attention)."""
        return self.n_heads // self.n_kv_heads

    @property
    def n_upstream(self) -> int:
        return 1 + self.n_layers * (self.n_heads + 1)

    @property
    def readers_per_layer(self) -> int:
        return self.n_heads + 2 * self.n_kv_heads + 1

    @property
    def n_downstream(self) -> int:
        return self.n_layers * self.readers_per_layer + 1

    def head_row(self, layer: int, head: int) -> int:
        """Upstream index of head `head` of layer `layer`."""
        return 1 + layer * (self.n_heads + 1) + head

    def mlp_row(self, layer: int) -> int:
        return 1 + layer * (self.n_heads + 1) + self.n_heads

    def head_rows(self, layer: int) -> slice:
        start = self.head_row(layer, 0)
        return slice(start, start + self.n_heads)

    def visible_to_attention(self, layer: int) -> int:
        """How many upstream nodes (a prefix) write before layer `layer`'s attention reads."""
        return 1 + layer * (self.n_heads + 1)

    def visible_to_mlp(self, layer: int) -> int:
        return self.visible_to_attention(layer) + self.n_heads

    def upstream_layer(self, row: int) -> int:
        """Layer of an upstream node (-1 for the input embedding)."""
        return -1 if row == 0 else (row - 1) // (self.n_heads + 1)

    def q_cols(self, layer: int) -> slice:
        start = layer * self.readers_per_layer
        return slice(start, start + self.n_heads)

    def k_cols(self, layer: int) -> slice:
        start = layer * self.readers_per_layer + self.n_heads
        return slice(start, start + self.n_kv_heads)

    def v_cols(self, layer: int) -> slice:
        start = layer * self.readers_per_layer + self.n_heads + self.n_kv_heads
        return slice(start, start + self.n_kv_heads)

    def mlp_col(self, layer: int) -> int:
        return (layer + 1) * self.readers_per_layer - 1

    @property
    def logits_col(self) -> int:
        return self.n_downstream - 1

    # ---- names and attributes -------------------------------------------------------------
    @cached_property
    def upstream_names(self) -> list[str]:
        names = ["input"]
        for layer in range(self.n_layers):
            names += [f"a{layer}.h{head}" for head in range(self.n_heads)] + [f"m{layer}"]
        return names

    @cached_property
    def downstream_names(self) -> list[str]:
        names = []
        for layer in range(self.n_layers):
            names += [f"a{layer}.h{head}<q>" for head in range(self.n_heads)]
            names += [f"a{layer}.kv{group}<k>" for group in range(self.n_kv_heads)]
            names += [f"a{layer}.kv{group}<v>" for group in range(self.n_kv_heads)]
            names.append(f"m{layer}")
        return [*names, "logits"]

    @cached_property
    def downstream_kinds(self) -> list[str]:
        """Kind of each reader: q, k, v, mlp or logits."""
        per_layer = (
            ["q"] * self.n_heads + ["k"] * self.n_kv_heads + ["v"] * self.n_kv_heads + ["mlp"]
        )
        return per_layer * self.n_layers + ["logits"]

    def edge_name(self, up: int, down: int) -> str:
        return f"{self.upstream_names[up]}->{self.downstream_names[down]}"

    def edge_index(self, name: str) -> tuple[int, int]:
        """(upstream, downstream) indices of an edge name such as `a0.h1->a2.kv0<k>`."""
        up, sep, down = name.partition("->")
        try:
            return self.upstream_names.index(up), self.downstream_names.index(down)
        except ValueError:
            raise UserError(
                f"no edge named {name!r} in this graph (names look like 'a0.h1->m2')"
            ) from None

    def down_layer(self, col: int) -> int:
        """Layer of a reader (n_layers for the logits)."""
        return col // self.readers_per_layer

    def down_head(self, col: int) -> int:
        """Query head (q), key/value head (k, v) or -1 (mlp, logits) of a reader."""
        offset = col % self.readers_per_layer
        if col == self.logits_col or offset == self.readers_per_layer - 1:
            return -1
        if offset < self.n_heads:
            return offset
        return (offset - self.n_heads) % self.n_kv_heads

    # ---- structure masks ------------------------------------------------------------------
    @cached_property
    def allowed(self) -> Bool[Tensor, "up down"]:
        """Which edges exist: an upstream node feeds every reader after it."""
        mask = torch.zeros(self.n_upstream, self.n_downstream, dtype=torch.bool)
        for layer in range(self.n_layers):
            attention = self.visible_to_attention(layer)
            for cols in (self.q_cols(layer), self.k_cols(layer), self.v_cols(layer)):
                mask[:attention, cols] = True
            mask[: self.visible_to_mlp(layer), self.mlp_col(layer)] = True
        mask[:, self.logits_col] = True
        return mask

    @cached_property
    def feeds(self) -> Bool[Tensor, "down up"]:
        """Reader → the upstream node whose input it is (q → its head, k/v → the group's heads, mlp → m)."""
        mask = torch.zeros(self.n_downstream, self.n_upstream, dtype=torch.bool)
        for layer in range(self.n_layers):
            for head in range(self.n_heads):
                row = self.head_row(layer, head)
                group = head // self.group_size
                mask[self.q_cols(layer).start + head, row] = True
                mask[self.k_cols(layer).start + group, row] = True
                mask[self.v_cols(layer).start + group, row] = True
            mask[self.mlp_col(layer), self.mlp_row(layer)] = True
        return mask

    @property
    def n_edges(self) -> int:
        return int(self.allowed.sum())


@contextlib.contextmanager
def edge_hooks(model) -> Iterator[None]:
    """Turn on the bridge's per-head hooks (split q/k/v inputs, head results, MLP input); restore after."""
    cfg = model.cfg
    saved = (
        cfg.use_split_qkv_input,
        cfg.use_attn_result,
        cfg.use_hook_mlp_in,
        bool(getattr(cfg, "use_attn_in", False)),
    )
    try:
        if saved[3]:
            model.set_use_attn_in(False)  # exclusive with split q/k/v inputs
        model.set_use_split_qkv_input(True)
        model.set_use_attn_result(True)
        model.set_use_hook_mlp_in(True)
        yield
    finally:
        model.set_use_split_qkv_input(saved[0])
        model.set_use_attn_result(saved[1])
        model.set_use_hook_mlp_in(saved[2])
        if saved[3]:
            model.set_use_attn_in(True)


@contextlib.contextmanager
def without_split_inputs(model) -> Iterator[None]:
    """Inside `edge_hooks`: a pass that reads only writers skips the per-head q/k/v input copies."""
    model.set_use_split_qkv_input(False)
    try:
        yield
    finally:
        model.set_use_split_qkv_input(True)


# Hook names (HookedTransformer vocabulary kept by the bridge in compatibility mode).
EMBED_HOOK = "hook_embed"
FINAL_RESID_HOOK = "ln_final.hook_in"


def head_result_hook(layer: int) -> str:
    return f"blocks.{layer}.attn.hook_result"


def mlp_out_hook(layer: int) -> str:
    return f"blocks.{layer}.hook_mlp_out"


def qkv_input_hook(layer: int, kind: str) -> str:
    return f"blocks.{layer}.hook_{kind}_input"


def mlp_in_hook(layer: int) -> str:
    return f"blocks.{layer}.hook_mlp_in"
