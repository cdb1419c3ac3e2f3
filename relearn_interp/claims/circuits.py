"""Knowledge circuits: ReLearn weakens the entity's edges, GA/NPO strengthen edges (the paper reads
the latter as a suppression pattern).

The statistic is the circuit diff's per-pair net share (edges of vanilla's entity-related circuit
weakened minus strengthened, on scores normalised by each checkpoint's own clean − corrupted gap;
`relearn_interp.circuits.diff`), averaged per fact over its corruption partners, since partners of
one fact are not independent, then bootstrapped over facts.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from relearn_interp.claims.base import (
    Claim,
    ClaimCheck,
    Evidence,
    aligned,
    combined,
    compare,
    rule_text,
)
from relearn_interp.labels import relearn_labels, reverse_labels

CLAIM = "ReLearn weakens the entity's edges; GA/NPO strengthen edges (a suppression pattern)"
STATISTIC = (
    "per held-out fact, the net share of vanilla's entity-related circuit edges weakened minus "
    "strengthened (|score| normalised by each checkpoint's own clean − corrupted gap), averaged "
    "over the fact's corruption partners"
)


def net_share_per_fact(diff: dict, pairs: dict, edge_kind: str) -> dict[str, dict[str, float]]:
    """label -> fact -> mean per-pair net share of `edge_kind` edges (entity_edges/circuit_edges)."""
    fact_of = {p["id"]: p.get("fact") or p["id"] for p in pairs["pairs"]}
    pair_ids = diff["values"]["diff"]["pair_ids"]
    out: dict[str, dict[str, float]] = {}
    for label, edges in diff["values"]["diff"][edge_kind].items():
        grouped: dict[str, list[float]] = defaultdict(list)
        for pair_id, value in zip(pair_ids, edges["per_pair_net_share"], strict=True):
            if value is not None:
                grouped[fact_of[pair_id]].append(value)
        out[label] = {fact: float(np.mean(values)) for fact, values in grouped.items()}
    return out


def edge_kind(diff: dict) -> str:
    """Entity-related edges when vanilla's circuit has any, else the whole circuit."""
    entity = diff["values"]["diff"].get("edge_set", {}).get("n_entity", 0)
    return "entity_edges" if entity else "circuit_edges"


def claim_circuits(diff: dict, pairs: dict, seed: int = 0) -> Claim:
    """Net share: ReLearn's > 0 (weakens) and each GA/NPO's < 0 (strengthens)."""
    kind = edge_kind(diff)
    _, net = aligned(net_share_per_fact(diff, pairs, kind))
    labels = list(net)
    comparisons = []
    for relearn in relearn_labels(labels):
        zero = np.zeros_like(net[relearn])
        comparisons.append(compare(f"{relearn} net share", net[relearn], zero, +1, seed))
    for name in reverse_labels(labels):
        zero = np.zeros_like(net[name])
        comparisons.append(compare(f"{name} net share", net[name], zero, -1, seed))
    note = f"bootstrapped over {len(next(iter(net.values()), []))} held-out facts; " + (
        "entity-related edges"
        if kind == "entity_edges"
        else "vanilla's circuit has no entity-related edge: its whole circuit"
    )
    return Claim(
        CLAIM,
        STATISTIC,
        rule_text("ReLearn's net share > 0 (weakened), each GA/NPO's < 0 (strengthened)"),
        combined(comparisons),
        "; ".join(f"{c.name} {c.estimate.fmt(3, signed=True)}" for c in comparisons),
        comparisons,
        note,
    )


def _check(evidence: Evidence) -> Claim:
    return claim_circuits(evidence.circuits, evidence.circuit_pairs, evidence.seed)


CHECK = ClaimCheck("circuits", "net share per fact", _check)
