"""The circuit diff on constructed circuits: normalisation, fixed edge set, entity edges, CIs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from relearn_interp.circuits.attribute import EdgeScores
from relearn_interp.circuits.diff import CheckpointCircuit, compare, entity_mask
from relearn_interp.circuits.faithfulness import PatchedRuns
from relearn_interp.circuits.graph import Graph
from relearn_interp.plots.circuit_diff import draw_changes, draw_whole
from unlearn.errors import UserError

GRAPH = Graph(n_layers=2, n_heads=2, n_kv_heads=1)
N_PAIRS = 6
IDS = [f"pair{i}" for i in range(N_PAIRS)]
# edge: (score, part read at the subject positions)
REFERENCE = {
    "input->a0.kv0<k>": (-2.0, -2.0),  # input edge: subject share 1 by construction
    "a0.h0->a1.h1<q>": (-1.0, -0.9),  # entity-related (share 0.9)
    "m0->a1.h1<q>": (-0.5, 0.0),
    "a1.h1->logits": (-1.0, -0.1),
    "input->m0": (0.3, 0.3),
}
CHANGED = {
    "input->a0.kv0<k>": (-2.0, -2.0),
    "a0.h0->a1.h1<q>": (-0.2, -0.2),  # weakened
    "m0->a1.h1<q>": (-1.5, 0.0),  # strengthened
    "a1.h1->logits": (-1.05, 0.0),  # within the tolerance
    "input->m0": (0.3, 0.3),
}


def checkpoint(label: str, edges: dict, gap: float = 2.0, scale: float = 1.0) -> CheckpointCircuit:
    """A checkpoint whose pairs all have the given scores times a per-pair factor, times `scale`."""
    shape = (GRAPH.n_upstream, GRAPH.n_downstream)
    mean, subject, keep = torch.zeros(shape), torch.zeros(shape), torch.zeros(shape, dtype=bool)
    for name, (score, part) in edges.items():
        up, down = GRAPH.edge_index(name)
        mean[up, down], subject[up, down], keep[up, down] = score, part, True
    factors = torch.linspace(0.8, 1.2, N_PAIRS)[:, None, None]
    per_pair = scale * factors * mean
    selection = EdgeScores(GRAPH, scale * mean, scale * subject)
    heldout = EdgeScores(GRAPH, per_pair.mean(0), None, per_pair=per_pair, pair_ids=list(IDS))
    clean = np.full(N_PAIRS, scale * gap)
    runs = PatchedRuns("logit_diff", clean, np.zeros(N_PAIRS), np.zeros((0, N_PAIRS)), [])
    return CheckpointCircuit(label, selection, heldout, keep, len(edges), runs, {})


def test_entity_edges_come_from_subject_shares_and_leave_out_input_edges():
    mask = entity_mask(checkpoint("vanilla", REFERENCE))
    assert [GRAPH.edge_name(*e) for e in torch.nonzero(mask).tolist()] == ["a0.h0->a1.h1<q>"]


def test_diff_counts_weakened_and_strengthened_edges_with_intervals():
    numbers = compare([checkpoint("vanilla", REFERENCE), checkpoint("relearn", CHANGED)])
    assert numbers["edge_set"]["n_edges"] == 5 and numbers["edge_set"]["n_entity"] == 1
    assert numbers["edge_set"]["input_edges_left_out"] == 2
    entity, whole = numbers["entity_edges"]["relearn"], numbers["circuit_edges"]["relearn"]
    assert (entity["n_weakened"], entity["n_strengthened"]) == (1, 0)
    assert (whole["n_weakened"], whole["n_strengthened"]) == (1, 1)
    assert entity["per_pair_net_share"] == [1.0] * N_PAIRS  # every pair weakens its entity edge
    assert whole["per_pair_net_share"] == [0.0] * N_PAIRS  # one weakened, one strengthened of 5
    assert whole["weakened"]["low"] == whole["weakened"]["high"] == 1.0
    changed = numbers["changed_most"]["relearn"]
    assert [row["edge"] for row in changed[:2]] == ["m0->a1.h1<q>", "a0.h0->a1.h1<q>"]
    assert changed[0]["change"] == pytest.approx(0.5)  # |−1.5| − |−0.5|, over the gap 2
    assert numbers["rank_overlap"]["relearn"]["jaccard_top_n"] == 1.0  # same top-5 edges
    assert numbers["rank_overlap"]["relearn"]["spearman_reference_circuit"] < 1.0


def test_a_checkpoint_diffed_against_itself_has_no_changed_edges():
    reference = checkpoint("vanilla", REFERENCE)
    numbers = compare([reference, replace(reference, label="again")])
    for summary in (numbers["entity_edges"]["again"], numbers["circuit_edges"]["again"]):
        assert summary["n_weakened"] == summary["n_strengthened"] == 0
        assert summary["per_pair_net_share"] == [0.0] * N_PAIRS
        assert summary["net_share"]["low"] == summary["net_share"]["high"] == 0.0
    overlap = numbers["rank_overlap"]["again"]
    assert overlap["jaccard_top_n"] == 1.0
    assert overlap["spearman_reference_circuit"] == pytest.approx(1.0)
    assert all(row["change"] == 0 for row in numbers["changed_most"]["again"])


def test_normalised_scores_ignore_the_scale_of_the_metric():
    reference = checkpoint("vanilla", REFERENCE)
    plain = compare([reference, checkpoint("relearn", CHANGED)])
    scaled = compare([reference, checkpoint("relearn", CHANGED, scale=7.0)])
    for key in ("entity_edges", "circuit_edges"):
        mine, theirs = scaled[key]["relearn"], plain[key]["relearn"]
        assert (mine["n_weakened"], mine["n_strengthened"]) == (
            theirs["n_weakened"],
            theirs["n_strengthened"],
        )
        assert mine["per_pair_net_share"] == theirs["per_pair_net_share"]
        assert mine["net_share"] == pytest.approx(theirs["net_share"])
    assert scaled["rank_overlap"]["relearn"] == pytest.approx(plain["rank_overlap"]["relearn"])
    for mine, theirs in zip(
        scaled["changed_most"]["relearn"][:2], plain["changed_most"]["relearn"][:2], strict=True
    ):
        assert mine["edge"] == theirs["edge"] and mine["change"] == pytest.approx(theirs["change"])
    # a checkpoint that only doubled the effect (scores and gap) changed nothing
    doubled = compare([reference, checkpoint("double", REFERENCE, scale=2.0)])
    assert doubled["circuit_edges"]["double"]["n_weakened"] == 0
    assert doubled["circuit_edges"]["double"]["n_strengthened"] == 0
    # whereas a checkpoint with the same scores on half the gap is strengthened everywhere
    halved = compare([reference, checkpoint("half", REFERENCE, gap=1.0)])
    assert halved["circuit_edges"]["half"]["n_strengthened"] == 5


def test_diff_refuses_one_checkpoint_other_pairs_and_a_reference_without_gap():
    reference = checkpoint("vanilla", REFERENCE)
    with pytest.raises(UserError, match="at least two"):
        compare([reference])
    other = checkpoint("relearn", CHANGED)
    other.heldout.pair_ids = IDS[::-1]
    with pytest.raises(UserError, match="other pairs"):
        compare([reference, other])
    with pytest.raises(UserError, match="no clean−corrupted gap"):
        compare([checkpoint("gone", CHANGED, gap=0.0), reference])
    # a compared checkpoint without a gap is left out of the comparisons, and says why
    numbers = compare([reference, checkpoint("gone", CHANGED, gap=0.0), checkpoint("x", CHANGED)])
    assert "no clean-corrupted gap" in numbers["not_compared"]["gone"]
    assert set(numbers["entity_edges"]) == {"x"}


def test_diff_figures_are_readable_sizes(tmp_path):
    from PIL import Image

    circuits = [checkpoint("vanilla", REFERENCE)] + [
        checkpoint(name, CHANGED) for name in ("ga_gdr", "npo_gdr", "ga_gdr_sure", "relearn")
    ]
    numbers = compare(circuits)
    png, pdf = draw_changes(numbers, tmp_path / "diff", title="test")
    assert pdf.stat().st_size > 1000
    assert max(Image.open(png).size) <= 4000
    assert draw_whole(circuits, tmp_path / "whole.pdf").stat().st_size > 1000
