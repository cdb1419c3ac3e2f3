"""Compare results files: rows = checkpoints, columns = metrics, the best value per column marked.

Columns are flattened as `set.metric` for the clean run (forget.KFR, retain.KRR, ...) and
`attack/set.metric` for the robustness runs (int4/forget.KFR, relearn/forget.fact_recall, ...).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unlearn.eval.results_file import read_eval_results

HEADLINE = (
    "KFR",
    "KRR",
    "LS",
    "fluency",
    "relevance",
    "fluency_proxy",
    "relevance_proxy",
    "rougeL_recall",
    "fact_recall",
)
ROBUSTNESS_HEADLINE = ("KFR", "KRR", "fact_recall")
HIGHER_IS_BETTER = {
    "KFR",
    "KRR",
    "LS",
    "LS_harmonic",
    "honore",
    "fluency",
    "relevance",
    "fluency_proxy",
    "relevance_proxy",
}
LOWER_IS_BETTER = {"PPL", "brunet"}
# On the forget set, less overlap with the gold answer is better; on the retain set, more.
FORGET_LOWER = {"ECS", "rougeL_recall", "fact_recall"}
FORGET_HIGHER = {"contradiction_rate"}


def direction(column: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when the column has no better side."""
    section, _, metric = column.rpartition(".")
    kind = section.rpartition("/")[2]
    if metric in HIGHER_IS_BETTER:
        return 1
    if metric in LOWER_IS_BETTER:
        return -1
    if metric in FORGET_LOWER | FORGET_HIGHER and kind in ("forget", "retain"):
        forget_sign = -1 if metric in FORGET_LOWER else 1
        return forget_sign if kind == "forget" else -forget_sign
    return 0


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, float | None]:
    """{"forget": {"KFR": x}, "robustness": {"int8": {"forget": {...}}}} -> {"forget.KFR": x, "int8/forget.KFR": ...}."""
    flat: dict[str, float | None] = {}
    for key, value in values.items():
        if key == "robustness" and isinstance(value, dict):
            for attack, sets in value.items():
                flat.update(flatten(sets, f"{attack}/"))
        elif isinstance(value, dict):
            for metric, number in value.items():
                if (
                    isinstance(number, int | float | None)
                    and not isinstance(number, bool)
                    and metric != "n"
                    and not metric.startswith("n_")
                ):
                    flat[f"{prefix}{key}.{metric}"] = number
    return flat


@dataclass
class Table:
    rows: list[str]
    columns: list[str]
    cells: list[list[float | None]]
    notes: list[str]

    def best(self, col: int) -> set[int]:
        sign = direction(self.columns[col])
        numbers = [
            (r, v)
            for r, v in enumerate(c[col] for c in self.cells)
            if v is not None and not math.isnan(v)
        ]
        if not sign or len(numbers) < 2:
            return set()
        target = max(sign * v for _, v in numbers)
        return {
            r for r, v in numbers if math.isclose(sign * v, target, rel_tol=1e-9, abs_tol=1e-12)
        }

    def markdown(self) -> str:
        best = [self.best(c) for c in range(len(self.columns))]
        lines = [
            "| checkpoint | " + " | ".join(self.columns) + " |",
            "|---" * (len(self.columns) + 1) + "|",
        ]
        for r, name in enumerate(self.rows):
            cells = []
            for c, value in enumerate(self.cells[r]):
                text = "–" if value is None else f"{value:.3f}"
                cells.append(f"**{text}**" if r in best[c] else text)
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            "Bold: best per column (higher is better except PPL, Brunet W, and forget-set ECS, "
            "ROUGE-L and fact recall)."
        )
        lines += [f"- note: {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["checkpoint", *self.columns])
        for name, cells in zip(self.rows, self.cells, strict=True):
            writer.writerow([name, *("" if v is None else f"{v:.6g}" for v in cells)])
        writer.writerow(
            [
                "best",
                *(
                    ";".join(self.rows[r] for r in sorted(self.best(c)))
                    for c in range(len(self.columns))
                ),
            ]
        )
        return buffer.getvalue()


def load_results(paths: list[str | Path]) -> list[tuple[str, dict]]:
    """(row name, results) per file; names are meta.name, made unique with the file stem."""
    loaded, seen = [], set()
    for path in paths:
        data = read_eval_results(path)
        name = str(data["meta"].get("name") or Path(path).stem)
        if name in seen:
            name = f"{name} ({Path(path).stem})"
        seen.add(name)
        loaded.append((name, data))
    return loaded


def backend_notes(loaded: list[tuple[str, dict]]) -> list[str]:
    """Say where files disagree on a metric's backend, so unlike numbers are not compared unawares."""
    notes = []
    keys = sorted({k for _, d in loaded for k in d["meta"].get("backends", {})})
    for key in keys:
        found = {name: d["meta"].get("backends", {}).get(key) for name, d in loaded}
        if len(set(found.values())) > 1:
            notes.append(
                f"{key} backends differ: " + "; ".join(f"{n}: {b}" for n, b in found.items())
            )
    return notes


def build_table(paths: list[str | Path], all_metrics: bool = False) -> Table:
    loaded = load_results(paths)
    flat = [flatten(d["values"]) for _, d in loaded]
    columns: list[str] = []
    for row in flat:
        columns += [c for c in row if c not in columns]
    if not all_metrics:
        columns = [
            c
            for c in columns
            if c.rpartition(".")[2] in (ROBUSTNESS_HEADLINE if "/" in c else HEADLINE)
        ]
    clean = [c for c in columns if "/" not in c]
    clean.sort(
        key=lambda c: (
            HEADLINE.index(m) if (m := c.rpartition(".")[2]) in HEADLINE else len(HEADLINE),
            c,
        )
    )
    columns = clean + [c for c in columns if "/" in c]
    cells = [[row.get(c) for c in columns] for row in flat]
    return Table([name for name, _ in loaded], columns, cells, backend_notes(loaded))
