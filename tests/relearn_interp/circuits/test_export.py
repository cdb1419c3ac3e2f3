"""Circuit export (networkx, node-link JSON, GraphML), score files, drawing, and the circuit diff."""

from __future__ import annotations

import networkx as nx
import pytest
import torch

from relearn_interp.circuits.attribute import EdgeScores
from relearn_interp.circuits.export import circuit_graph, load_graph, save_graph
from relearn_interp.circuits.graph import Graph
from relearn_interp.plots.circuit import draw

GRAPH = Graph(n_layers=2, n_heads=2, n_kv_heads=1)


def scored(values: dict[str, tuple[float, float]]) -> EdgeScores:
    """EdgeScores with {edge name: (score, subject part)} set and every other edge 0."""
    scores, subject = (
        torch.zeros(GRAPH.n_upstream, GRAPH.n_downstream),
        torch.zeros(GRAPH.n_upstream, GRAPH.n_downstream),
    )
    for name, (score, part) in values.items():
        up, down = GRAPH.edge_index(name)
        scores[up, down], subject[up, down] = score, part
    return EdgeScores(GRAPH, scores, subject, {"method": "eap-ig", "metric": "logit_diff"})


def mask(*names: str) -> torch.Tensor:
    keep = torch.zeros_like(GRAPH.allowed)
    for name in names:
        keep[GRAPH.edge_index(name)] = True
    return keep


REFERENCE = {
    "input->a0.kv0<k>": (-2.0, -2.0),
    "a0.h0->logits": (-1.0, 0.0),
    "m0->a1.h1<q>": (-0.5, 0.0),
    "m1->logits": (-1.0, 0.0),
    "input->m0": (0.3, 0.3),
}


def test_circuit_graph_attributes_and_files_round_trip(tmp_path):
    scores = scored(REFERENCE)
    keep = mask("input->a0.kv0<k>", "a0.h0->logits", "input->m0", "m0->a1.h1<q>")
    circuit = circuit_graph(scores, keep)
    edge = circuit.edges["input", "a0.kv0<k>"]
    assert edge == {"score": -2.0, "abs_score": 2.0, "kind": "k", "subject_score": -2.0}
    assert circuit.nodes["a0.kv0<k>"] == {"kind": "k", "layer": 0, "head": -1, "kv_head": 0}
    assert circuit.nodes["a0.h0"] == {"kind": "head", "layer": 0, "head": 0, "kv_head": 0}
    assert circuit.edges["a0.kv0<k>", "a0.h0"]["kind"] == "port"  # a0.h0 is live; a0.h1 is not
    assert not circuit.has_edge("a0.kv0<k>", "a0.h1")
    assert nx.has_path(circuit, "input", "logits")
    assert not circuit.has_node("a1.h1")  # m0 -> a1.h1<q> reaches a head that writes nowhere
    json_path, graphml = save_graph(circuit, tmp_path / "graph")
    for loaded in (load_graph(json_path), nx.read_graphml(graphml)):
        assert set(loaded.edges) == set(circuit.edges)
        assert loaded.edges["input", "a0.kv0<k>"]["score"] == pytest.approx(-2.0)
        assert loaded.graph["n_kv_heads"] == 1
    scores.save(tmp_path / "scores.npz")
    again = EdgeScores.load(tmp_path / "scores.npz")
    assert (
        again.graph == GRAPH
        and torch.equal(again.scores, scores.scores)
        and again.meta == scores.meta
    )
    assert all(path.stat().st_size > 1000 for path in draw(circuit, tmp_path / "circuit", "test"))
