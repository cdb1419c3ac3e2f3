"""Pruning (top-n, threshold, greedy, dead nodes) and patched runs on the tiny vanilla model."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import as_rows, attribute, reader_specs, writer_specs
from relearn_interp.circuits.export import circuit_graph
from relearn_interp.circuits.faithfulness import run_circuits
from relearn_interp.circuits.graph import Graph, edge_hooks
from relearn_interp.circuits.metrics import metric_per_pair
from relearn_interp.circuits.pairs import make_batches
from relearn_interp.circuits.sizing import normalised

pytestmark = pytest.mark.integration


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
    runs = run_circuits(
        vanilla_bridge,
        batches,
        [graph.allowed, torch.zeros_like(graph.allowed), circuit],
        progress=False,
    )
    full, empty, kept = runs.circuits
    # the model knows the facts: a clear logit difference
    assert runs.clean.mean() > 5 > -5 > runs.corrupted.mean()
    np.testing.assert_allclose(full, runs.clean, atol=1e-4)
    np.testing.assert_allclose(empty, runs.corrupted, atol=1e-3)
    assert normalised(full, runs.clean, runs.corrupted) == pytest.approx(1.0, abs=1e-5)
    assert normalised(empty, runs.clean, runs.corrupted) == pytest.approx(0.0, abs=1e-4)
    assert runs.n_edges == [graph.n_edges, 0, int(circuit.sum())]
    # 100 of 479 edges carry most of the effect (measured ≈ 0.9)
    assert normalised(kept, runs.clean, runs.corrupted) > 0.6


def naive_patched_metric(model, graph, batch, keep) -> np.ndarray:
    """Reference patching: every reader adds Σ_excluded (a_corrupt − a_live), all rows, no tricks."""
    corrupted, live = {}, {}

    def store(buffer, row):
        return lambda t, hook: buffer.__setitem__(row, as_rows(t.detach()))

    capture = [(n, store(corrupted, r)) for n, r in writer_specs(graph)]
    with torch.no_grad(), edge_hooks(model), model.hooks(fwd_hooks=capture):
        model(batch.corrupted)
    rows = [r for _, r in writer_specs(graph)]
    excluded = graph.allowed & ~keep

    def patch(cols, visible):
        def hook(tensor, hook):
            have = torch.cat([corrupted[r] - live[r] for r in rows if r < visible])[:visible]
            weights = excluded[:visible, cols].to(have.dtype)
            fix = torch.einsum("uc,ubpd->cbpd", weights, have)
            return tensor + (fix.permute(1, 2, 0, 3) if tensor.ndim == 4 else fix[0])

        return hook

    hooks = [(n, store(live, r)) for n, r in writer_specs(graph)]
    hooks += [(n, patch(c, v)) for n, c, v in reader_specs(graph)]
    with torch.no_grad(), edge_hooks(model), model.hooks(fwd_hooks=hooks):
        return metric_per_pair("logit_diff", model(batch.clean), batch).numpy()


def test_patched_runs_equal_naive_patching_for_small_and_large_circuits(
    vanilla_bridge, batches, scores
):
    graph = scores.graph
    generator = torch.Generator().manual_seed(0)
    masks = [prune.top_n(graph, scores.scores, n) for n in (3, 40, 400)]
    masks.append(graph.allowed & (torch.rand(graph.allowed.shape, generator=generator) < 0.5))
    runs = run_circuits(vanilla_bridge, batches[:1], masks, progress=False)
    for mask, values in zip(masks, runs.circuits, strict=True):
        expected = naive_patched_metric(vanilla_bridge, graph, batches[0], mask)
        np.testing.assert_allclose(values, expected, rtol=1e-4, atol=1e-4)
    assert np.ptp(runs.circuits.mean(1)) > 1.0  # the masks differ in effect: not a vacuous check


def test_kl_runs_are_zero_on_the_clean_run(vanilla_bridge, batches):
    graph = Graph.from_model(vanilla_bridge)
    runs = run_circuits(
        vanilla_bridge,
        batches[:1],
        [graph.allowed, torch.zeros_like(graph.allowed)],
        metric="kl",
        progress=False,
    )
    assert runs.clean.mean() == pytest.approx(0.0, abs=1e-5) and runs.corrupted.mean() > 0.1
    assert normalised(runs.circuits[0], runs.clean, runs.corrupted) == pytest.approx(1.0, abs=1e-4)


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
