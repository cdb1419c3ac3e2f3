"""Load QA data from a spec: `ours:DIR[#split]`, `ours:FILE`, `tofu:PATH[#part]`, `knowundo:PATH[#part]`,
`relearn:PATH` (the rows of `unlearn augment`, prompt -> question and target -> answer).

Files are read by content, not by suffix: a JSON document (a list of records, or an object of
named lists) or JSON Lines (one record a line), whatever the file is called; TOFU ships its
splits as JSON Lines in files named `.json`. TOFU records hold question/answer and optional
paraphrased_question, paraphrased_answer and perturbed_answer; KnowUnDo records hold
{"text", "labels"} (question, answer), either as a JSON list (the ReLearn repository's files) or
as an object {"train": [...], "val": [...]} (the Hugging Face release), read whole or one part
with `#train`. A bare path is treated as `ours:`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import read_text

FORMATS = ("ours", "tofu", "knowundo", "relearn")
JSON, JSON_LINES = "JSON", "JSON Lines"


def parse_spec(spec: str) -> tuple[str, Path, str | None]:
    """Split a data spec into (format, path, split)."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in FORMATS:
        kind, rest = "ours", spec
    path_text, _, split = rest.partition("#")
    return kind, Path(path_text), split or None


def parse_json_or_lines(path: Path, what: str = "data file") -> tuple[Any, str]:
    """A file's content and its format (JSON or JSON Lines), told apart by content.

    Several JSON values one after another are JSON Lines; a file that is neither is a UserError
    naming the line that fails; a blank file holds no rows.
    """
    text = read_text(path, what)
    if not text.strip():
        return [], JSON_LINES
    try:
        return json.loads(text), JSON
    except json.JSONDecodeError as err:
        # "Extra data" after a first complete value means one value per line, unless the first
        # value opened a document ("[" or "{" alone on its line), which then has trailing junk.
        first_line = text.lstrip().split("\n", 1)[0].strip()
        if err.msg != "Extra data" or first_line in ("[", "{"):
            raise UserError(
                f"{what} {path} is neither JSON nor JSON Lines: {err.msg} at line {err.lineno}"
            ) from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise UserError(
                f"{what} {path} line {number} is not valid JSON (read as JSON Lines): {err.msg}"
            ) from None
    return rows, JSON_LINES


def _named_lists(data: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: value for key, value in data.items() if isinstance(value, list)}


def read_rows(path: Path, part: str | None = None, what: str = "data file") -> list[Any]:
    """The records of a JSON or JSON Lines file; `part` picks one named list of a JSON object."""
    data, _ = parse_json_or_lines(path, what)
    if isinstance(data, dict):
        lists = _named_lists(data)
        if part is not None:
            if part not in lists:
                names = ", ".join(f"#{key}" for key in lists) or "none"
                raise UserError(f"{what} {path} has no list named {part!r}; lists: {names}")
            return lists[part]
        if "data" in lists or "rows" in lists:
            return lists.get("data") or lists.get("rows") or []
        if lists and all(isinstance(row, dict) for rows in lists.values() for row in rows):
            return [row for rows in lists.values() for row in rows]  # e.g. KnowUnDo train + val
        return [data]  # JSON Lines with a single line
    if part is not None:
        raise UserError(
            f"{what} {path} holds one list of records; #{part} can only pick a named list "
            'from a JSON object such as {"train": [...], "val": [...]}'
        )
    if not isinstance(data, list):
        raise UserError(f"{what} {path} must hold JSON records (a list, an object or JSON Lines)")
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
    rows = read_rows(path)
    for index, row in enumerate(rows):
        _require(row, ("id", "question", "answer"), path, index)
    return [QARecord.from_json(row) for row in rows]


def _perturbed(row: dict[str, Any], path: Path, index: int) -> list[str]:
    perturbed = row.get("perturbed_answer") or []
    perturbed = [perturbed] if isinstance(perturbed, str) else perturbed
    if not isinstance(perturbed, list) or not all(isinstance(p, str) for p in perturbed):
        raise UserError(
            f"data file {path} record {index} has a perturbed_answer that is neither a string "
            "nor a list of strings"
        )
    return list(perturbed)


def _optional_text(row: dict[str, Any], name: str) -> str | None:
    value = row.get(name)
    return value if isinstance(value, str) and value.strip() else None


def _load_tofu(path: Path, part: str | None) -> list[QARecord]:
    rows = read_rows(path, part)
    records = []
    for index, row in enumerate(rows):
        _require(row, ("question", "answer"), path, index)
        records.append(
            QARecord(
                id=str(row.get("id", f"tofu-{index:05d}")),
                question=row["question"],
                answer=row["answer"],
                paraphrased_question=_optional_text(row, "paraphrased_question"),
                paraphrased_answer=_optional_text(row, "paraphrased_answer"),
                perturbed_answer=_perturbed(row, path, index),
                source="tofu",
            )
        )
    return records


def _load_knowundo(path: Path, part: str | None) -> list[QARecord]:
    rows = read_rows(path, part)
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


def _load_relearn(path: Path, part: str | None) -> list[QARecord]:
    """ReLearn training rows as QA records, e.g. to run GA/NPO on them as the reference does."""
    rows = read_rows(path, part)
    for index, row in enumerate(rows):
        _require(row, ("prompt", "target"), path, index)
    return [
        QARecord(
            id=f"relearn-{index:05d}-{row.get('kind', 'row')}-{row.get('source_id', '')}",
            question=row["prompt"],
            answer=row["target"],
            source="relearn",
        )
        for index, row in enumerate(rows)
    ]


def load_data(spec: str | Path) -> list[QARecord]:
    """Load records from a data spec; errors name the file and the bad record or line."""
    kind, path, split = parse_spec(str(spec))
    if not str(path) or str(path) == ".":
        raise UserError(f"data spec {spec!r} names no file; e.g. tofu:forget10.json")
    if not path.exists():
        raise UserError(f"data path {path} does not exist (from {spec!r})")
    if kind == "ours":
        records = _load_ours(path, split)
    elif kind == "tofu":
        records = _load_tofu(path, split)
    elif kind == "relearn":
        records = _load_relearn(path, split)
    else:
        records = _load_knowundo(path, split)
    if not records:
        raise UserError(f"data {spec} holds no records")
    return records
