"""The edge graph: sizes, names, which edges exist, and the grouped-query structure."""

from __future__ import annotations

import pytest
import torch

from relearn_interp.circuits.graph import Graph
from unlearn.errors import UserError


def test_sizes_and_names_of_a_grouped_query_graph():
    graph = Graph(n_layers=2, n_heads=4, n_kv_heads=2)
    assert graph.n_upstream == 1 + 2 * 5
    assert graph.n_downstream == 2 * (4 + 2 * 2 + 1) + 1
    assert graph.upstream_names[:6] == ["input", "a0.h0", "a0.h1", "a0.h2", "a0.h3", "m0"]
    assert graph.downstream_names[:9] == [
        "a0.h0<q>",
        "a0.h1<q>",
        "a0.h2<q>",
        "a0.h3<q>",
        "a0.kv0<k>",
        "a0.kv1<k>",
        "a0.kv0<v>",
        "a0.kv1<v>",
        "m0",
    ]
    assert graph.downstream_names[-1] == "logits"
    assert graph.edge_index("a0.h1->a1.kv0<k>") == (2, graph.k_cols(1).start)
    assert graph.edge_name(*graph.edge_index("m0->logits")) == "m0->logits"
    with pytest.raises(UserError, match="no edge named"):
        graph.edge_index("a9.h0->logits")


def test_edges_only_run_forward_in_the_layer_order():
    graph = Graph(n_layers=3, n_heads=2, n_kv_heads=2)
    allowed = graph.allowed
    head_0_1 = graph.head_row(0, 1)
    assert not allowed[
        head_0_1, graph.q_cols(0)
    ].any()  # a head never feeds its own layer's attention
    assert allowed[head_0_1, graph.mlp_col(0)]  # but does feed its own layer's MLP
    assert allowed[head_0_1, graph.q_cols(1)].all()
    assert not allowed[graph.mlp_row(0), graph.mlp_col(0)]  # no self loop
    assert allowed[:, graph.logits_col].all()
    # edges = sum over readers of the writers before them
    expected = sum(
        3 * 2 * graph.visible_to_attention(layer) + graph.visible_to_mlp(layer)
        for layer in range(3)
    )
    assert graph.n_edges == expected + graph.n_upstream


def test_key_value_ports_feed_every_query_head_of_their_group():
    graph = Graph(n_layers=1, n_heads=6, n_kv_heads=2)
    k_port = graph.k_cols(0).start + 1  # key/value head 1 serves query heads 3, 4, 5
    fed = torch.nonzero(graph.feeds[k_port]).flatten().tolist()
    assert fed == [graph.head_row(0, h) for h in (3, 4, 5)]
    assert graph.down_head(k_port) == 1
    assert graph.down_head(graph.q_cols(0).start + 4) == 4
    with pytest.raises(UserError, match="cannot be grouped"):
        Graph(n_layers=1, n_heads=6, n_kv_heads=4)
