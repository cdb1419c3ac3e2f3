"""Choose a circuit from edge scores: top-n, an absolute threshold, or greedy from the logits.

Every selection ranks edges by |score| (the sign only says which way an edge pushes the metric)
and ends by removing dead nodes: an edge is kept only if its upstream node has an input in the
circuit (or is the input embedding) and its downstream node has an output in the circuit (or is
the logits), repeated until nothing changes. Results are boolean [n_upstream, n_downstream] masks.
"""

from __future__ import annotations

import heapq

import torch
from jaxtyping import Bool, Float
from torch import Tensor

from relearn_interp.circuits.graph import Graph
from unlearn.errors import UserError

SELECTIONS = ("top-n", "threshold", "greedy")


def remove_dead(graph: Graph, keep: Bool[Tensor, "up down"]) -> Bool[Tensor, "up down"]:
    """Drop edges out of nodes with no kept input and into readers whose node has no kept output."""
    keep = keep & graph.allowed
    feeds = graph.feeds.float()
    is_input = torch.zeros(graph.n_upstream, dtype=torch.bool)
    is_input[0] = True
    is_logits = torch.zeros(graph.n_downstream, dtype=torch.bool)
    is_logits[graph.logits_col] = True
    while True:
        reader_has_input = keep.any(0).float()  # [down]
        node_has_input = is_input | ((reader_has_input @ feeds) > 0)  # [up]
        node_has_output = keep.any(1).float()  # [up]
        reader_has_output = is_logits | ((feeds @ node_has_output) > 0)  # [down]
        pruned = keep & node_has_input[:, None] & reader_has_output[None, :]
        if torch.equal(pruned, keep):
            return keep
        keep = pruned


def ranked(graph: Graph, scores: Float[Tensor, "up down"]) -> Tensor:
    """Flat indices of the existing edges, strongest |score| first (ties by index)."""
    magnitude = torch.where(graph.allowed, scores.abs(), -1.0).flatten()
    order = torch.sort(magnitude, descending=True, stable=True).indices
    return order[: graph.n_edges]


def top_n(graph: Graph, scores: Float[Tensor, "up down"], n: int) -> Bool[Tensor, "up down"]:
    """The n edges of largest |score|, then dead nodes removed (so possibly fewer than n)."""
    if n < 0:
        raise UserError(f"the number of edges must be non-negative, got {n}")
    keep = torch.zeros(graph.n_upstream * graph.n_downstream, dtype=torch.bool)
    keep[ranked(graph, scores)[:n]] = True
    return remove_dead(graph, keep.view(graph.n_upstream, graph.n_downstream))


def threshold(
    graph: Graph, scores: Float[Tensor, "up down"], tau: float
) -> Bool[Tensor, "up down"]:
    """Every edge with |score| ≥ tau, then dead nodes removed."""
    if tau < 0:
        raise UserError(
            f"the threshold is compared with |score| and must be non-negative, got {tau}"
        )
    return remove_dead(graph, graph.allowed & (scores.abs() >= tau))


def greedy(graph: Graph, scores: Float[Tensor, "up down"], n: int) -> Bool[Tensor, "up down"]:
    """Grow from the logits: repeatedly add the strongest edge into a node already in the circuit."""
    if n < 0:
        raise UserError(f"the number of edges must be non-negative, got {n}")
    allowed, magnitude = graph.allowed, scores.abs()
    keep = torch.zeros_like(allowed)
    frontier: list[tuple[float, int, int]] = []
    opened: set[int] = set()

    def open_reader(col: int) -> None:
        if col in opened:
            return
        opened.add(col)
        for up in torch.nonzero(allowed[:, col]).flatten().tolist():
            heapq.heappush(frontier, (-float(magnitude[up, col]), up, col))

    open_reader(graph.logits_col)
    in_circuit = {0}
    added = 0
    while frontier and added < n:
        _, up, col = heapq.heappop(frontier)
        keep[up, col] = True
        added += 1
        if up not in in_circuit:
            in_circuit.add(up)
            for reader in torch.nonzero(graph.feeds[:, up]).flatten().tolist():
                open_reader(reader)
    return remove_dead(graph, keep)


def select(
    graph: Graph,
    scores: Float[Tensor, "up down"],
    how: str,
    n: int | None = None,
    tau: float | None = None,
) -> Bool[Tensor, "up down"]:
    """Dispatch to top-n (n), threshold (tau) or greedy (n)."""
    if how == "threshold":
        if tau is None:
            raise UserError("threshold selection needs --threshold")
        return threshold(graph, scores, tau)
    if how not in SELECTIONS:
        raise UserError(f"unknown selection {how!r}; valid: {', '.join(SELECTIONS)}")
    if n is None:
        raise UserError(f"{how} selection needs a number of edges (--edges)")
    return top_n(graph, scores, n) if how == "top-n" else greedy(graph, scores, n)
