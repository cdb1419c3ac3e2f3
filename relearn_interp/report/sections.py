"""REPORT.md's sections, each rendered from loaded results (markdown only; no figures here)."""

from __future__ import annotations

import json

from relearn_interp.claims.base import Claim
from relearn_interp.erasure.judge import ErasureTable
from relearn_interp.metric_intervals import METRICS
from relearn_interp.plots.style import order_methods
from relearn_interp.statistics import VERDICT_RULE, Estimate


def fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def claims_section(claims: list[Claim]) -> str:
    """The claims table (verdicts), then each claim's statistic, rule and numbers."""
    rows = [[c.claim, f"**{c.verdict}**", c.note or "–"] for c in claims]
    details = []
    for index, c in enumerate(claims, start=1):
        adjusted = "; ".join(
            f"{x.name} {x.p_holm:.3f} ({x.verdict})" for x in c.comparisons if x.p_holm is not None
        )
        details.append(
            f"{index}. **{c.claim}** — **{c.verdict}**.\n"
            f"   - statistic: {c.statistic}\n"
            f"   - rule: {c.rule or '–'}\n"
            f"   - measured (95% paired-bootstrap CI): {c.measured}"
            + (f"\n   - Holm-adjusted p: {adjusted}" if adjusted else "")
        )
    return (
        f"Verdict rule: {VERDICT_RULE}.\n\n"
        + table(["claim", "verdict", "note"], rows)
        + "\n\n"
        + "\n".join(details)
    )


def dose_section(cards: dict[str, dict]) -> str:
    """How much training each method needed to reach the forget target."""
    rows = []
    for label in order_methods(list(cards)):
        card = cards[label]
        target, dose = card.get("forget_target"), card.get("dose")
        if not target or not dose:
            continue
        rows.append(
            [
                label,
                f"{card['hyperparameters']['lr']:g}",
                str(dose["steps"]),
                str(dose["examples_seen"]),
                fmt(dose["forget_recall"], 2),
                "yes" if target["reached"] else "**no: best checked step shown**",
                str(card.get("total_steps", "–")),
            ]
        )
    if not rows:
        return "No method was trained to a forget target in this run."
    return table(
        [
            "method",
            "learning rate",
            "steps to target",
            "forget-side examples seen",
            "forget recall at the kept step",
            "target reached",
            "step cap",
        ],
        rows,
    )


def metrics_section(estimates: dict[str, dict[str, Estimate]]) -> str:
    """Every metric with its 95% bootstrap CI over facts."""
    labels = order_methods(list(estimates))
    present = [m for m in METRICS if any(m.key in estimates[label] for label in labels)]
    rows = []
    for label in labels:
        row = [label]
        for metric in present:
            estimate = estimates[label].get(metric.key)
            row.append("–" if estimate is None else estimate.fmt(2))
        rows.append(row)
    return table(["checkpoint", *[m.label for m in present]], rows)


def backends_section(evals: dict[str, dict]) -> str:
    first = next(iter(evals.values()))
    backends = first["meta"].get("backends", {})
    return "\n".join(f"- **{key}**: {value}" for key, value in backends.items())


def augment_section(stats: dict | None) -> str:
    """The ReLearn data's measured quality (from the augmentation's stats file)."""
    from unlearn.augment import quality_table

    if not stats:
        return "No augmentation statistics were saved."
    rows = [
        [r["measure"], r["value"], r["reference"] or "–", r["note"] or "–"]
        for r in quality_table(stats)
    ]
    return table(["measure", "value", "reference", "note"], rows)


ERASURE_COLUMNS = (
    ("forgotten", "forgotten share"),
    ("lens", "lens recovery"),
    ("int8", "int8 recall"),
    ("int4", "int4 recall"),
    ("relearn", "relearning attack"),
    ("control", "retain-only control"),
    ("any", "recovered by any probe"),
    ("depth", "patching depth"),
)


def erasure_section(results: dict | None, erasure: ErasureTable | None) -> str:
    """The erased-or-suppressed table: recovered shares of forgotten facts with CIs, judgements."""
    if not results or erasure is None:
        return "The erasure stage did not run."
    rows = []
    for label, estimates in erasure.estimates.items():
        cells = [label]
        for key, _ in ERASURE_COLUMNS:
            estimate = estimates.get(key)
            cells.append("–" if estimate is None else estimate.fmt(2))
        rows.append([*cells, f"**{erasure.judgements[label]}**"])
    settings = results["meta"].get("settings", {})
    return (
        "Each checkpoint against vanilla on the forget facts vanilla states. Shares are of the "
        "facts the checkpoint forgot (95% bootstrap CIs over facts); the patching depth is 0 when "
        "the forgetting is made at the output and 1 when the residual stream already carries it "
        "from the first block (docs/erasure.md defines every probe).\n\n"
        + table(["checkpoint", *[title for _, title in ERASURE_COLUMNS], "judgement"], rows)
        + f"\n\nJudgement rule: {erasure.rules['judgement']}.\n\n"
        f"Settings: {json.dumps(settings)}\n\n"
        "![patching](erasure_patching.png)\n\n![recovery](erasure_recovery.png)"
    )


SIZE_COLUMNS = [
    "checkpoint",
    "edges kept",
    "held-out faithfulness",
    "target reached",
    "CPR",
    "CMD",
    "clean − corrupted gap",
]
DIFF_COLUMNS = [
    "checkpoint",
    "Jaccard of top-n",
    "Spearman on vanilla's circuit",
    "weakened",
    "strengthened",
    "net (weakened − strengthened)",
    "gap vs vanilla",
]


def _ci(value: dict | None, digits: int = 2) -> str:
    return "–" if not value else Estimate(**value).fmt(digits)


def _share_ci(count: dict | None, total: int | None) -> str:
    """An edge count with its CI, shown as a share of `total` edges (the count itself beside it)."""
    if not count or not total:
        return "–"
    e = Estimate(**count)
    share = Estimate(e.value / total, e.low / total, e.high / total, e.n)
    return f"{share.fmt(2)} ({e.value:,.0f})"


def _size_rows(circuits: dict[str, dict]) -> list[list[str]]:
    """One row per checkpoint: circuit size, held-out faithfulness, target, CPR, CMD, gap."""
    rows = []
    for label, c in circuits.items():
        circuit = c["circuit"]
        reached = (
            "yes"
            if circuit["target_reached"]
            else f"**no**: best {fmt(circuit['best_faithfulness'], 2)} at "
            f"{100 * circuit['best_fraction']:.3g}% of edges"
        )
        rows.append(
            [
                label,
                f"{circuit['n_edges']:,} ({100 * circuit['fraction_of_edges']:.3g}%)",
                _ci(circuit["faithfulness_ci"]),
                reached,
                _ci(c["cpr"], 3),
                _ci(c["cmd"], 3),
                fmt(c["metric"]["gap"], 2),
            ]
        )
    return rows


def _diff_rows(diff: dict) -> list[list[str]]:
    """One row per compared checkpoint: rank overlap, entity edges weakened and strengthened."""
    n_entity = diff.get("edge_set", {}).get("n_entity")
    rows = []
    for label, entity in diff["entity_edges"].items():
        overlap, norm = diff["rank_overlap"].get(label, {}), diff["normaliser"].get(label, {})
        rows.append(
            [
                label,
                fmt(overlap.get("jaccard_top_n"), 2),
                fmt(overlap.get("spearman_reference_circuit"), 2),
                _share_ci(entity.get("weakened"), n_entity),
                _share_ci(entity.get("strengthened"), n_entity),
                _ci(entity.get("net_share")),
                fmt(norm.get("gap_vs_reference"), 2)
                + (" (shrank)" if norm.get("effect_shrank") else ""),
            ]
        )
    return rows


def circuits_section(diff: dict | None) -> str:
    """Circuit sizes and held-out faithfulness (with CPR/CMD), and the diff against vanilla."""
    if not diff:
        return "The circuits stage did not run."
    values, meta = diff["values"], diff["meta"]
    edge_set = values["diff"].get("edge_set", {})
    return (
        f"Metric: {json.dumps(meta.get('metric'))}. Edges are ranked on one half of the prompt "
        "pairs (split by fact) and every faithfulness number is measured on the other half: "
        "normalised faithfulness (m(circuit) − m(∅)) / (m(model) − m(∅)), 0 for the empty circuit "
        "and 1 for the full model. Each circuit is the smallest top-n on the grid (0.1 … 100% of "
        f"edges) whose held-out faithfulness reaches the target; CPR (area under the curve, higher "
        "is better) and CMD (area under |1 − f|, lower is better) follow MIB. The size is chosen "
        "on the same held-out pairs its faithfulness is reported on (the edges are not).\n\n"
        + table(SIZE_COLUMNS, _size_rows(values["circuits"]))
        + "\n\n![faithfulness](circuit_faithfulness.png)\n\n"
        f"The diff compares every checkpoint with vanilla on vanilla's circuit "
        f"({edge_set.get('n_edges', '–')} edges, {edge_set.get('n_entity', '–')} entity-related: "
        "≥ half of their |score| at the subject's positions), with each checkpoint's scores "
        "divided by its own gap, so a smaller effect does not read as weakened edges. Shares of "
        "the entity-related edges, 95% CIs over held-out pairs:\n\n"
        + table(DIFF_COLUMNS, _diff_rows(values["diff"]))
        + "\n\n![circuit diff](circuit_diff.png)\n\nEvery whole circuit: `circuits_whole.pdf`."
    )


def lens_section(lens: dict) -> str:
    rows = []
    for label, values in lens["values"]["checkpoints"].items():
        s = values["summary"]
        rows.append(
            [
                label,
                fmt(s["output_target_prob"]),
                fmt(s["max_target_prob"]),
                fmt(s["hidden_top10_fraction"], 2),
                fmt(s["first_top10_layer_median"], 1),
                fmt(s["output_related_mass"]),
                fmt(s["max_related_mass"]),
            ]
        )
    return table(
        [
            "checkpoint",
            "gold prob at output",
            "max gold prob over layers",
            "gold in top-10 inside but not at output",
            "first top-10 layer (median)",
            "related mass at output",
            "max related mass",
        ],
        rows,
    )


def shift_section(shift: dict) -> str:
    models = shift["values"]["models"]
    destinations = sorted(next(iter(models.values()))["moved_fraction"])
    rows = []
    for label, values in models.items():
        m, moved = values["mean"], values["moved_fraction"]
        rows.append(
            [
                label,
                fmt(m.get("kl")),
                fmt(m.get("js")),
                f"{m['entropy_change']:+.2f}",
                fmt(values["base_top1_kept_rate"], 2),
            ]
            + [fmt(moved.get(d), 2) for d in destinations]
        )
    return table(
        ["checkpoint", "KL", "JS", "entropy change (nats)", "vanilla top-1 kept"]
        + [f"moved to {d}" for d in destinations],
        rows,
    )


def stages_section(timings: list[dict]) -> str:
    rows = [
        [
            t["stage"],
            f"{t['seconds']:.0f}",
            "yes" if t["cached"] else "no",
            fmt(t.get("peak_rss_mb"), 0),
        ]
        for t in timings
    ]
    return table(["stage", "seconds", "cached", "peak RSS during the stage (MB)"], rows)
