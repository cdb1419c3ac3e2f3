"""Load QA data from a spec: `ours:DIR[#split]`, `ours:FILE`, `tofu:PATH`, `knowundo:PATH`.

TOFU files are JSON or JSON Lines with question/answer and optional paraphrased_question,
paraphrased_answer and perturbed_answer; KnowUnDo is a JSON list of {"text", "labels"}.
A bare path is treated as `ours:`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import read_json, read_jsonl

FORMATS = ("ours", "tofu", "knowundo")


def parse_spec(spec: str) -> tuple[str, Path, str | None]:
    """Split a data spec into (format, path, split)."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in FORMATS:
        kind, rest = "ours", spec
    path_text, _, split = rest.partition("#")
    return kind, Path(path_text), split or None


def _read_rows(path: Path) -> list[Any]:
    if path.suffix == ".jsonl":
        return read_jsonl(path, what="data file")
    data = read_json(path, what="data file")
    if isinstance(data, dict):
        data = data.get("data") or data.get("rows")
    if not isinstance(data, list):
        raise UserError(f"data file {path} must hold a JSON list of records")
    return data


def _require(row: Any, fields: tuple[str, ...], path: Path, index: int) -> None:
    if not isinstance(row, dict):
        raise UserError(f"data file {path} record {index} is not an object")
    missing = [
        name for name in fields if not isinstance(row.get(name), str) or not row[name].strip()
    ]
    if missing:
        raise UserError(f"data file {path} record {index} lacks the field(s) {', '.join(missing)}")


def _load_ours(path: Path, split: str | None) -> list[QARecord]:
    if path.is_dir():
        path = path / f"{split or 'full'}.json"
    elif split:
        raise UserError(
            f"a split (#{split}) can only follow a benchmark folder, not the file {path}"
        )
    rows = _read_rows(path)
    for index, row in enumerate(rows):
        _require(row, ("id", "question", "answer"), path, index)
    return [QARecord.from_json(row) for row in rows]


def _load_tofu(path: Path) -> list[QARecord]:
    rows = _read_rows(path)
    records = []
    for index, row in enumerate(rows):
        _require(row, ("question", "answer"), path, index)
        perturbed = row.get("perturbed_answer") or []
        records.append(
            QARecord(
                id=str(row.get("id", f"tofu-{index:05d}")),
                question=row["question"],
                answer=row["answer"],
                paraphrased_question=row.get("paraphrased_question"),
                paraphrased_answer=row.get("paraphrased_answer"),
                perturbed_answer=[perturbed] if isinstance(perturbed, str) else list(perturbed),
                source="tofu",
            )
        )
    return records


def _load_knowundo(path: Path) -> list[QARecord]:
    rows = _read_rows(path)
    records = []
    for index, row in enumerate(rows):
        _require(row, ("text", "labels"), path, index)
        records.append(
            QARecord(
                id=f"knowundo-{index:05d}",
                question=row["text"],
                answer=row["labels"],
                source="knowundo",
            )
        )
    return records


def load_data(spec: str | Path) -> list[QARecord]:
    """Load records from a data spec; errors name the file and the bad record."""
    kind, path, split = parse_spec(str(spec))
    if not path.exists():
        raise UserError(f"data path {path} does not exist (from {spec!r})")
    if kind == "ours":
        records = _load_ours(path, split)
    elif kind == "tofu":
        records = _load_tofu(path)
    else:
        records = _load_knowundo(path)
    if not records:
        raise UserError(f"data {spec} holds no records")
    return records
