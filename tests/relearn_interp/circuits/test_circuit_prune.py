"""Pruning (top-n, threshold, greedy, dead nodes) and faithfulness on the tiny vanilla model."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import attribute
from relearn_interp.circuits.export import circuit_graph
from relearn_interp.circuits.faithfulness import curve_sizes, evaluate_circuits
from relearn_interp.circuits.graph import Graph
from relearn_interp.circuits.pairs import make_batches


@pytest.fixture(scope="module")
def batches(vanilla_pairs):
    return make_batches(vanilla_pairs.pairs, 8, 0, "cpu")


@pytest.fixture(scope="module")
def scores(vanilla_bridge, batches):
    return attribute(vanilla_bridge, batches, method="eap-ig", ig_steps=3, progress=False)


def test_full_graph_is_the_clean_run_and_empty_graph_the_corrupted_run(
    vanilla_bridge, batches, scores
):
    graph = scores.graph
    circuit = prune.top_n(graph, scores.scores, 100)
    result = evaluate_circuits(
        vanilla_bridge,
        batches,
        [graph.allowed, torch.zeros_like(graph.allowed), circuit],
        progress=False,
    )
    full, empty, kept = result.circuit
    assert (
        result.full > 5 > -5 > result.corrupted
    )  # the model knows the facts: a clear logit difference
    assert result.ratio(full) == pytest.approx(1.0, abs=1e-5)
    assert empty == pytest.approx(result.corrupted, abs=1e-3)
    assert result.recovered(empty) == pytest.approx(0.0, abs=1e-4)
    assert result.n_edges == [graph.n_edges, 0, int(circuit.sum())]
    # 100 of 479 edges carry most of the effect (measured ≈ 0.9 recovered)
    assert result.recovered(kept) > 0.6


def test_kl_faithfulness_has_no_ratio_but_a_recovered_fraction(vanilla_bridge, batches):
    graph = Graph.from_model(vanilla_bridge)
    result = evaluate_circuits(
        vanilla_bridge,
        batches[:1],
        [graph.allowed, torch.zeros_like(graph.allowed)],
        metric="kl",
        progress=False,
    )
    assert result.full == pytest.approx(0.0, abs=1e-5) and result.corrupted > 0.1
    assert result.ratio(result.circuit[0]) is None
    assert result.recovered(result.circuit[0]) == pytest.approx(1.0, abs=1e-4)


def test_dead_nodes_are_removed():
    graph = Graph(n_layers=2, n_heads=4, n_kv_heads=2)
    keep = torch.zeros_like(graph.allowed)
    up_h, logits = graph.head_row(1, 0), graph.logits_col
    keep[up_h, logits] = True  # a1.h0 -> logits, but a1.h0 has no input in the circuit
    keep[0, graph.q_cols(0).start] = True  # input -> a0.h0<q>, but a0.h0 has no output
    assert not prune.remove_dead(graph, keep).any()
    keep[0, graph.k_cols(1).start + 0] = True  # input -> a1.kv0<k> feeds a1.h0 (group 0)
    kept = prune.remove_dead(graph, keep)
    assert kept[up_h, logits] and kept[0, graph.k_cols(1).start]
    assert int(kept.sum()) == 2
    keep[graph.head_row(0, 1), graph.mlp_col(1)] = (
        True  # a0.h1 -> m1: m1 has no output, a0.h1 no input
    )
    assert torch.equal(prune.remove_dead(graph, keep), kept)


def test_top_n_threshold_and_greedy_selections(scores):
    graph, values = scores.graph, scores.scores
    magnitude = values.abs()
    top = prune.top_n(graph, values, 60)
    cutoff = magnitude.view(-1)[prune.ranked(graph, values)[59]]
    assert 0 < int(top.sum()) <= 60 and (magnitude[top] >= cutoff).all()
    tau = float(cutoff)
    above = prune.threshold(graph, values, tau)
    assert (magnitude[above] >= tau).all() and torch.equal(
        above, prune.top_n(graph, values, int((magnitude >= tau).sum()))
    )
    greedy = prune.greedy(graph, values, 60)
    assert int(greedy.sum()) <= 60
    strongest_logit_edge = magnitude[:, graph.logits_col].argmax()
    assert greedy[strongest_logit_edge, graph.logits_col]
    circuit = circuit_graph(scores, greedy)  # greedy grows from the logits: every edge reaches them
    scored = [(u, v) for u, v, d in circuit.edges(data=True) if d["kind"] != "port"]
    assert scored and all(v == "logits" or nx.has_path(circuit, v, "logits") for _, v in scored)
    assert all(u == "input" or nx.has_path(circuit, "input", u) for u, _ in scored)


def test_curve_sizes_span_empty_to_full():
    sizes = curve_sizes(479, 12)
    assert sizes[0] == 0 and sizes[-1] == 479 and sizes == sorted(set(sizes)) and len(sizes) >= 8
