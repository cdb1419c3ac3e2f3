"""A circuit as a networkx DiGraph, saved as node-link JSON and GraphML.

Nodes: `input`, heads `a{l}.h{h}`, MLPs `m{l}`, `logits`, and the attention input ports
`a{l}.h{h}<q>`, `a{l}.kv{g}<k>`, `a{l}.kv{g}<v>` (a DiGraph cannot hold a q, a k and a v edge
between the same two heads, and with grouped-query attention k/v belong to a key/value head, not
to a query head). Scored edges run from an upstream node to a reader (a port, an MLP or the
logits) with attributes score, abs_score, subject_score, kind (q, k, v, mlp, logits); structural
edges `port → head` (kind "port", score 0) connect a port to the live heads it feeds, so paths
from `input` to `logits` exist in networkx. Integer attributes use -1 for "not applicable".
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import torch
from jaxtyping import Bool
from torch import Tensor

from relearn_interp.circuits.attribute import EdgeScores
from relearn_interp.circuits.graph import Graph
from unlearn.io import read_json, write_json


def _upstream_attrs(graph: Graph, row: int) -> dict:
    if row == 0:
        return {"kind": "input", "layer": -1, "head": -1, "kv_head": -1}
    layer = graph.upstream_layer(row)
    head = row - graph.head_row(layer, 0)
    if head == graph.n_heads:
        return {"kind": "mlp", "layer": layer, "head": -1, "kv_head": -1}
    return {"kind": "head", "layer": layer, "head": head, "kv_head": head // graph.group_size}


def _reader_attrs(graph: Graph, col: int) -> dict:
    kind = graph.downstream_kinds[col]
    head = graph.down_head(col)
    if kind == "logits":
        return {"kind": "logits", "layer": graph.n_layers, "head": -1, "kv_head": -1}
    if kind == "mlp":
        return {"kind": "mlp", "layer": graph.down_layer(col), "head": -1, "kv_head": -1}
    kv_head = head // graph.group_size if kind == "q" else head
    return {
        "kind": kind,
        "layer": graph.down_layer(col),
        "head": head if kind == "q" else -1,
        "kv_head": kv_head,
    }


def circuit_graph(scores: EdgeScores, keep: Bool[Tensor, "up down"]) -> nx.DiGraph:
    """The kept edges of `scores` as a DiGraph with node and edge attributes."""
    graph = scores.graph
    out = nx.DiGraph(
        n_layers=graph.n_layers,
        n_heads=graph.n_heads,
        n_kv_heads=graph.n_kv_heads,
        **{k: v for k, v in scores.meta.items() if isinstance(v, (int, float, str))},
    )
    keep = keep.cpu() & graph.allowed
    subject = scores.subject_scores
    for up, col in torch.nonzero(keep).tolist():
        source, target = graph.upstream_names[up], graph.downstream_names[col]
        out.add_node(source, **_upstream_attrs(graph, up))
        out.add_node(target, **_reader_attrs(graph, col))
        score = float(scores.scores[up, col])
        out.add_edge(
            source,
            target,
            score=score,
            abs_score=abs(score),
            kind=graph.downstream_kinds[col],
            subject_score=float(subject[up, col]) if subject is not None else 0.0,
        )
    live_heads = {
        name
        for name, attrs in out.nodes(data=True)
        if attrs["kind"] == "head" and out.out_degree(name)
    }
    for port, attrs in list(out.nodes(data=True)):
        if attrs["kind"] not in ("q", "k", "v"):
            continue
        heads = (
            [attrs["head"]]
            if attrs["kind"] == "q"
            else range(
                attrs["kv_head"] * graph.group_size, (attrs["kv_head"] + 1) * graph.group_size
            )
        )
        for head in heads:
            name = f"a{attrs['layer']}.h{head}"
            if name in live_heads:
                out.add_edge(port, name, score=0.0, abs_score=0.0, kind="port", subject_score=0.0)
    return out


def save_graph(graph: nx.DiGraph, out_stem: str | Path) -> list[Path]:
    """Write `<stem>.json` (node-link) and `<stem>.graphml`."""
    out_stem = Path(out_stem)
    json_path = write_json(out_stem.with_suffix(".json"), nx.node_link_data(graph, edges="edges"))
    graphml = out_stem.with_suffix(".graphml")
    tmp = graphml.with_name(f".{graphml.name}.tmp")
    nx.write_graphml(graph, tmp)
    tmp.replace(graphml)
    return [json_path, graphml]


def load_graph(path: str | Path) -> nx.DiGraph:
    """Read a node-link JSON written by `save_graph`."""
    return nx.node_link_graph(read_json(path, what="circuit graph"), edges="edges")
