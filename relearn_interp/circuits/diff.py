"""Compare the circuits of several checkpoints on a fixed edge set, with bootstrap CIs over pairs.

Everything is measured on the held-out pairs, whose edges were not chosen on them:

- **Normalised scores.** Each checkpoint's per-pair edge scores are divided by its own mean
  clean − corrupted gap on those pairs (|mean gap|), so a checkpoint that merely shrank the effect
  does not look "weakened" everywhere, and scaling the metric changes nothing.
  A checkpoint whose gap fell below SHRUNK × the reference's is flagged `effect_shrank`: its
  normalised scores are small numbers divided by a small gap, so read its changes with care.
- **Fixed edge set.** Edges are compared on the reference's circuit (the first checkpoint,
  vanilla in the main job), not on the union of all circuits.
- **Entity-related edges** are the reference circuit's edges whose score is read mostly at the
  subject positions: |subject part| ≥ SUBJECT_SHARE · (|subject part| + |rest|), on the
  reference's selection-pair scores. Edges out of the input embedding are left out: its
  clean − corrupted difference is zero off the subject positions, so their share is 1 by
  construction.
- **Weakened / strengthened.** An edge weakened when its mean normalised |score| fell below
  (1 − tolerance) × the reference's, strengthened when it rose above (1 + tolerance) × it; the
  counts get percentile CIs from the shared paired bootstrap over pairs.
- **Per-pair statistic** (what the circuit claim is bootstrapped on): for pair i, the net share
  of the edge set weakened minus strengthened, comparing the pair's own normalised |scores|
  with the reference's on the same pair: net_i = (#weakened_i − #strengthened_i) / |edges|.
  +1: every edge weakened; −1: every edge strengthened.
- **Rank overlap** with the reference: Jaccard of the two top-n circuits (n = the reference's
  requested size, selection-pair scores) and Spearman of mean normalised |score| over the
  reference circuit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Bool, Float
from scipy.stats import spearmanr
from torch import Tensor

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import EdgeScores
from relearn_interp.circuits.faithfulness import PatchedRuns
from relearn_interp.circuits.graph import Graph
from relearn_interp.statistics import bootstrap
from unlearn.errors import UserError

SUBJECT_SHARE = 0.5
CHANGE_TOLERANCE = 0.1
TOP_CHANGED = 30
MIN_GAP = 1e-6
SHRUNK = 0.25  # a gap below this fraction of the reference's is flagged: normalising inflates noise


@dataclass
class CheckpointCircuit:
    """One checkpoint's scores (selection means, held-out per pair), circuit and held-out runs."""

    label: str
    selection: EdgeScores
    heldout: EdgeScores
    keep: Bool[Tensor, "up down"]
    requested: int
    runs: PatchedRuns
    sizing: dict

    @property
    def mean_gap(self) -> float:
        return float(self.runs.gap.mean())

    def normalised_pair_scores(self) -> Float[Tensor, "pair up down"]:
        """Held-out per-pair scores over |mean clean − corrupted gap| (raises when there is no gap)."""
        if abs(self.mean_gap) < MIN_GAP or self.heldout.per_pair is None:
            raise UserError(
                f"{self.label}: no clean−corrupted gap on the held-out pairs (mean {self.mean_gap:.2e}); "
                "its scores cannot be normalised"
            )
        return self.heldout.per_pair / abs(self.mean_gap)


def entity_mask(
    reference: CheckpointCircuit, share: float = SUBJECT_SHARE
) -> Bool[Tensor, "up down"]:
    """Reference-circuit edges read mostly at the subject positions (input edges left out)."""
    scores, subject = reference.selection.scores, reference.selection.subject_scores
    if subject is None:
        raise UserError(
            "entity-related edges need subject-resolved scores (attribute(subject=True))"
        )
    rest = scores - subject
    mask = reference.keep & (subject.abs() >= share * (subject.abs() + rest.abs())) & (scores != 0)
    mask[0] = False  # input edges: share 1 by construction
    return mask


def _edges(mask: Tensor) -> tuple[Tensor, Tensor]:
    up, down = torch.nonzero(mask, as_tuple=True)
    return up, down


def _resampled_means(
    values: Float[np.ndarray, "pair edge"], indices: np.ndarray
) -> Float[np.ndarray, "*resample edge"]:
    """Mean over the pairs drawn in `indices` ([n] or [resample, n]), via a count matrix."""
    drawn = np.atleast_2d(indices)
    counts = np.zeros((drawn.shape[0], values.shape[0]))
    np.add.at(counts, (np.arange(drawn.shape[0])[:, None], drawn), 1.0)
    means = counts @ values / drawn.shape[1]
    return means if np.ndim(indices) == 2 else means[0]


def change_summary(
    mine: Float[np.ndarray, "pair edge"],
    reference: Float[np.ndarray, "pair edge"],
    tolerance: float,
    seed: int,
) -> dict:
    """Weakened/strengthened counts on the mean |scores| (with CIs) and the per-pair net share."""
    n_pairs, n_edges = mine.shape
    units = np.arange(n_pairs, dtype=float)

    def count(sign: int):
        def statistic(values: np.ndarray) -> np.ndarray:
            idx = np.asarray(values).astype(int)
            here = np.abs(_resampled_means(mine, idx))
            there = np.abs(_resampled_means(reference, idx))
            if sign < 0:
                return (here < (1 - tolerance) * there).sum(-1).astype(float)
            return (here > (1 + tolerance) * there).sum(-1).astype(float)

        return statistic

    here, there = np.abs(mine), np.abs(reference)
    weakened = (here < (1 - tolerance) * there).sum(1)
    strengthened = (here > (1 + tolerance) * there).sum(1)
    net = (weakened - strengthened) / n_edges
    mean_here, mean_there = np.abs(mine.mean(0)), np.abs(reference.mean(0))
    return {
        "n_edges": n_edges,
        "n_weakened": int((mean_here < (1 - tolerance) * mean_there).sum()),
        "n_strengthened": int((mean_here > (1 + tolerance) * mean_there).sum()),
        "weakened": bootstrap(units, count(-1), seed=seed).to_json(),
        "strengthened": bootstrap(units, count(+1), seed=seed).to_json(),
        "net_share": bootstrap(net, seed=seed).to_json(),
        "per_pair_net_share": net.tolist(),
    }


def _rank_overlap(
    circuit: CheckpointCircuit, reference: CheckpointCircuit, mine: np.ndarray, theirs: np.ndarray
) -> dict:
    graph = reference.selection.graph
    top = prune.top_n(graph, circuit.selection.scores, reference.requested)
    union = int((top | reference.keep).sum())
    jaccard = int((top & reference.keep).sum()) / union if union else None
    rho = spearmanr(np.abs(theirs.mean(0)), np.abs(mine.mean(0))).statistic
    return {
        "n": reference.requested,
        "jaccard_top_n": jaccard,
        "spearman_reference_circuit": None if not np.isfinite(rho) else float(rho),
    }


def _changed_most(
    graph: Graph,
    edges: tuple[Tensor, Tensor],
    entity: Tensor,
    mine: np.ndarray,
    theirs: np.ndarray,
    top: int,
) -> list[dict]:
    change = np.abs(mine.mean(0)) - np.abs(theirs.mean(0))
    order = np.lexsort((-np.abs(theirs.mean(0)), -np.abs(change)))[:top]  # ties: strongest first
    up, down = edges
    return [
        {
            "edge": graph.edge_name(int(up[k]), int(down[k])),
            "kind": graph.downstream_kinds[int(down[k])],
            "entity": bool(entity[int(up[k]), int(down[k])]),
            "reference": float(np.abs(theirs.mean(0))[k]),
            "this": float(np.abs(mine.mean(0))[k]),
            "change": float(change[k]),
        }
        for k in order
    ]


def _check_comparable(circuits: Sequence[CheckpointCircuit]) -> None:
    """Refuse fewer than two circuits, or circuits of other shapes or pairs than the first's."""
    if len(circuits) < 2:
        raise UserError("a circuit diff needs at least two checkpoints (--ckpt A --ckpt B)")
    reference = circuits[0]
    graph = reference.selection.graph
    for circuit in circuits[1:]:
        if circuit.selection.graph != graph:
            raise UserError(
                f"{circuit.label} has a different shape ({circuit.selection.graph}) from {reference.label} ({graph})"
            )
        if circuit.heldout.pair_ids != reference.heldout.pair_ids:
            raise UserError(f"{circuit.label} was scored on other pairs than {reference.label}")


def _diff_header(
    circuits: Sequence[CheckpointCircuit],
    entity: Tensor,
    entity_edges: tuple[Tensor, Tensor],
    not_compared: dict[str, str],
    tolerance: float,
    share: float,
    top_changed: int,
    seed: int,
) -> dict:
    """The diff's JSON before any comparison: the edge set, normalisers and settings, with empty
    per-checkpoint sections that `compare` fills."""
    reference, graph = circuits[0], circuits[0].selection.graph
    return {
        "reference": reference.label,
        "checkpoints": [c.label for c in circuits],
        "units": "held-out prompt pairs",
        "pair_ids": reference.heldout.pair_ids,
        "edge_set": {
            "name": f"{reference.label} circuit",
            "n_edges": int(reference.keep.sum()),
            "n_entity": int(entity.sum()),
            "entity_edges": [
                graph.edge_name(int(u), int(d)) for u, d in zip(*entity_edges, strict=True)
            ],
            "input_edges_left_out": int(reference.keep[0].sum()),
        },
        "not_compared": not_compared,
        "normaliser": {
            c.label: {
                "mean_gap": c.mean_gap,
                "gap_vs_reference": c.mean_gap / reference.mean_gap,
                "effect_shrank": abs(c.mean_gap) < SHRUNK * abs(reference.mean_gap),
            }
            for c in circuits
        },
        "rank_overlap": {},
        "entity_edges": {},
        "circuit_edges": {},
        "changed_most": {},
        "settings": {
            "tolerance": tolerance,
            "subject_share": share,
            "top_changed": top_changed,
            "bootstrap_seed": seed,
            "normalisation": "held-out per-pair scores / |mean clean - corrupted gap| of the checkpoint",
            "statistic": "per pair: (#weakened - #strengthened) / #edges, normalised |score| vs the reference on the same pair",
        },
    }


def compare(
    circuits: Sequence[CheckpointCircuit],
    tolerance: float = CHANGE_TOLERANCE,
    share: float = SUBJECT_SHARE,
    top_changed: int = TOP_CHANGED,
    seed: int = 0,
) -> dict:
    """The numbers of the diff (JSON-ready); the first checkpoint is the reference."""
    _check_comparable(circuits)
    reference = circuits[0]
    graph = reference.selection.graph
    entity = entity_mask(reference, share)
    circuit_edges, entity_edges = _edges(reference.keep), _edges(entity)
    normalised = {reference.label: reference.normalised_pair_scores()}
    not_compared = {}
    for circuit in circuits[1:]:
        if abs(circuit.mean_gap) < MIN_GAP:
            not_compared[circuit.label] = "no clean-corrupted gap: scores cannot be normalised"
        else:
            normalised[circuit.label] = circuit.normalised_pair_scores()

    def values(label: str, edges: tuple[Tensor, Tensor]) -> np.ndarray:
        return normalised[label][:, edges[0], edges[1]].double().numpy()

    result = _diff_header(circuits, entity, entity_edges, not_compared, tolerance, share,
                          top_changed, seed)  # fmt: skip
    theirs_all, theirs_entity = values(reference.label, circuit_edges), None
    if int(entity.sum()):
        theirs_entity = values(reference.label, entity_edges)
    for circuit in (c for c in circuits[1:] if c.label in normalised):
        mine_all = values(circuit.label, circuit_edges)
        result["rank_overlap"][circuit.label] = _rank_overlap(
            circuit, reference, mine_all, theirs_all
        )
        result["circuit_edges"][circuit.label] = change_summary(
            mine_all, theirs_all, tolerance, seed
        )
        result["entity_edges"][circuit.label] = (
            change_summary(values(circuit.label, entity_edges), theirs_entity, tolerance, seed)
            if theirs_entity is not None
            else {"n_edges": 0, "n_weakened": 0, "n_strengthened": 0, "per_pair_net_share": None}
        )
        result["changed_most"][circuit.label] = _changed_most(
            graph, circuit_edges, entity, mine_all, theirs_all, top_changed
        )
    return result
