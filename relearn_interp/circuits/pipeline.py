"""The circuit job shared by `relearn-interp circuit` and `circuit-diff`.

pairs → selection / held-out halves (by fact) → edge scores on both halves → the faithfulness
curve of the selection-ranked circuits on the held-out pairs → the circuit, sized by a
normalised-faithfulness target (or fixed by --edges / --threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import DEFAULT_IG_STEPS, attribute
from relearn_interp.circuits.diff import CheckpointCircuit
from relearn_interp.circuits.fact_pairs import DEFAULT_PARTNERS, entity_pairs
from relearn_interp.circuits.faithfulness import run_circuits
from relearn_interp.circuits.metrics import AUTO, resolve_metric
from relearn_interp.circuits.name_pairs import DEFAULT_ANSWER_TOKENS, name_swap_pairs
from relearn_interp.circuits.pairs import (
    PairSet,
    csv_pairs,
    limit_pairs,
    make_batches,
    pad_id,
    split_heldout,
)
from relearn_interp.circuits.sizing import (
    DEFAULT_TARGET,
    MIB_GRID,
    check_grid,
    curve_estimates,
    grid_sizes,
    normalised,
    size_by_target,
)
from unlearn.data.records import QARecord
from unlearn.errors import UserError


@dataclass(frozen=True)
class CircuitSettings:
    """Which pairs, how edges are scored, and how the circuit is sized."""

    method: str = "eap-ig"
    metric: str = AUTO
    ig_steps: int = DEFAULT_IG_STEPS
    select: str = "top-n"  # how a size becomes a circuit: top-n or greedy
    edges: int | None = None  # a fixed size instead of the target search
    threshold: float | None = None  # a fixed |score| threshold instead of the target search
    target: float = DEFAULT_TARGET
    grid: tuple[float, ...] = MIB_GRID
    partners: int = DEFAULT_PARTNERS
    answer_tokens: int = DEFAULT_ANSWER_TOKENS
    max_pairs: int | None = None
    batch_size: int = 8
    layers_per_chunk: int | None = None
    positions_per_chunk: int | None = None
    seed: int = 0

    @property
    def sized_by(self) -> str:
        if self.edges is not None:
            return "--edges"
        return "--threshold" if self.threshold is not None else "target"


def _split_subjects(data: str, split: str) -> list[str]:
    """Subjects of the fact triples in a split of an `ours:` benchmark folder (or `all`)."""
    from unlearn.data.loaders import load_data, parse_spec

    kind, path, _ = parse_spec(data)
    spec = data if split == "all" else f"ours:{path}#{split}"
    if split != "all" and (kind != "ours" or not path.is_dir()):
        raise UserError(
            f"--entities {split} needs --data ours:DIR (a benchmark folder); got {data}"
        )
    subjects = list(dict.fromkeys(r.fact.subject for r in load_data(spec) if r.fact is not None))
    if not subjects:
        raise UserError(
            f"--entities {split}: the split holds no fact triples to take subjects from"
        )
    return subjects


def _entity_sets(
    tokenizer,
    records: list[QARecord],
    entities: Sequence[str],
    partner_names: Sequence[str],
    settings: CircuitSettings,
) -> list[PairSet]:
    subjects = {r.fact.subject.lower() for r in records if r.fact is not None}
    with_facts = [e for e in entities if e.strip().lower() in subjects]
    sets = []
    if with_facts:
        sets.append(entity_pairs(tokenizer, records, with_facts, settings.partners, settings.seed))
    for entity in (e for e in entities if e not in with_facts):
        if not any(entity.strip().lower() in r.question.lower() for r in records):
            known = ", ".join(sorted(subjects)[:5]) or "none (the data holds no fact triples)"
            raise UserError(
                f"no facts about {entity!r} in the data, and no question names it; subjects include: {known}"
            )
        sets.append(
            name_swap_pairs(
                tokenizer,
                records,
                entity,
                settings.partners,
                partner_names,
                settings.answer_tokens,
                settings.seed,
            )
        )
    return sets


def build_pairs(
    tokenizer,
    entities: Sequence[str],
    data: str | None,
    pairs_csv: str | None,
    settings: CircuitSettings,
    entity_split: str | None = None,
    partner_names: Sequence[str] = (),
) -> PairSet:
    """Pairs of the entities' facts (fact triples, else name swaps) from --data, or of a CSV."""
    if pairs_csv:
        if entities or entity_split:
            raise UserError("give either --entity/--entities (with --data) or --pairs, not both")
        return limit_pairs(csv_pairs(tokenizer, pairs_csv), settings.max_pairs, settings.seed)
    if not (entities or entity_split) or not data:
        raise UserError(
            "give --entity NAME (or --entities SPLIT) with --data ours:DIR or tofu:FILE, or --pairs FILE.csv"
        )
    from unlearn.data.loaders import load_data

    names = list(entities) + (_split_subjects(data, entity_split) if entity_split else [])
    names = list(dict.fromkeys(names))
    sets = _entity_sets(tokenizer, load_data(data), names, partner_names, settings)
    merged = PairSet(
        [p for s in sets for p in s.pairs],
        source=sets[0].source if len(sets) == 1 else f"entities:{len(names)}",
        corruption="; ".join(dict.fromkeys(s.corruption for s in sets)),
        notes=list(dict.fromkeys(note for s in sets for note in s.notes)),
    )
    for pair_set in sets:
        for reason, ids in pair_set.skipped.items():
            merged.skipped.setdefault(reason, []).extend(ids)
    if entity_split:
        merged.source = f"entities:{entity_split} ({len(names)})"
    return limit_pairs(merged, settings.max_pairs, settings.seed)


def _select(graph, scores: torch.Tensor, settings: CircuitSettings, n: int) -> torch.Tensor:
    return prune.select(graph, scores, settings.select, n=n)


def find_circuit(
    model, label: str, pairs: PairSet, settings: CircuitSettings, progress: bool = True
) -> CheckpointCircuit:
    """Scores on both halves, the held-out faithfulness curve, and the circuit it sizes."""
    metric = resolve_metric(settings.metric, pairs.pairs)
    selection, heldout = split_heldout(pairs.pairs, settings.seed)
    device = next(model.parameters()).device
    pad = pad_id(model.tokenizer)
    halves = [make_batches(half, settings.batch_size, pad, device) for half in (selection, heldout)]
    common = {
        "method": settings.method,
        "metric": metric,
        "ig_steps": settings.ig_steps,
        "layers_per_chunk": settings.layers_per_chunk,
        "positions_per_chunk": settings.positions_per_chunk,
        "progress": progress,
    }
    chosen = attribute(model, halves[0], subject=True, **common)
    held = attribute(model, halves[1], subject=False, per_pair=True, **common)
    chosen.pair_ids, held.pair_ids = [p.id for p in selection], [p.id for p in heldout]
    graph = chosen.graph
    fractions = check_grid(settings.grid)
    sizes = grid_sizes(graph.n_edges, fractions)
    masks = [_select(graph, chosen.scores, settings, n) for n in sizes[:-1]]
    fixed = None
    if settings.edges is not None:
        fixed = _select(graph, chosen.scores, settings, settings.edges)
    elif settings.threshold is not None:
        fixed = prune.threshold(graph, chosen.scores, settings.threshold)
    runs = run_circuits(
        model, halves[1], masks + ([fixed] if fixed is not None else []), metric, progress
    )
    curve = np.vstack([runs.circuits[: len(masks)], runs.clean[None]])  # 100% = the clean run
    f = normalised(curve, runs.clean, corrupted=runs.corrupted)
    points, cpr, cmd = curve_estimates(runs.clean, runs.corrupted, curve, fractions, settings.seed)
    choice = size_by_target(fractions, [float(x) for x in f], settings.target)
    sizing = {
        "fractions": list(fractions),
        "requested": sizes,
        "n_edges": [int(m.sum()) for m in masks] + [graph.n_edges],
        "metric": curve.mean(1).tolist(),
        "faithfulness": [None if not np.isfinite(x) else float(x) for x in f],
        "estimates": [None if e is None else e.to_json() for e in points],
        "cpr": None if cpr is None else cpr.to_json(),
        "cmd": None if cmd is None else cmd.to_json(),
        "choice": choice.to_json(fractions, sizes),
    }
    if fixed is not None:
        keep, requested = fixed, settings.edges if settings.edges is not None else int(fixed.sum())
        sizing["chosen_row"] = len(masks)
    else:
        index = choice.index if choice.reached else choice.best_index
        keep, requested = masks[index], sizes[index]
        sizing["chosen_row"] = index
    return CheckpointCircuit(label, chosen, held, keep, requested, runs, sizing)
