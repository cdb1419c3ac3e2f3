"""The ReLearn training file: one JSON object per line, and reading it back.

Each row is {"prompt", "target", "kind", "source_id"}; `kind` is one of KINDS, plus "original"
when the sensitive pair itself was asked for (`include_original`). Completion rows (ReLearn's
sentence completion) take the first quarter of an answer's words as prompt and the rest as target.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

from unlearn.errors import UserError
from unlearn.io import read_jsonl

KINDS = ("question_variant", "answer_variant", "completion", "general")
ORIGINAL_KIND = "original"
COMPLETION_FRACTION = 0.25


class Row(TypedDict):
    prompt: str
    target: str
    kind: str
    source_id: str


def make_row(prompt: str, target: str, kind: str, source_id: str) -> Row:
    return {"prompt": prompt, "target": target, "kind": kind, "source_id": source_id}


def completion_row(
    answer: str, source_id: str, fraction: float = COMPLETION_FRACTION
) -> Row | None:
    """Split an answer after int(fraction * n_words) words (the reference's cut); None if that is 0 words."""
    words = answer.split()
    cut = int(len(words) * fraction)
    if cut == 0:
        return None
    return make_row(" ".join(words[:cut]), " ".join(words[cut:]), "completion", source_id)


def rows_to_jsonl(rows: list[Row]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def load_relearn_rows(path: str | Path) -> list[Row]:
    """Read a file written by `unlearn augment`; a malformed row is a one-line UserError."""
    rows = read_jsonl(path, what="ReLearn data file")
    if not rows:
        raise UserError(f"ReLearn data file {path} holds no rows; rerun `unlearn augment`")
    valid_kinds = (*KINDS, ORIGINAL_KIND)
    for number, row in enumerate(rows, start=1):
        problem = _row_problem(row, valid_kinds)
        if problem:
            raise UserError(
                f"ReLearn data file {path} row {number} {problem}; rerun `unlearn augment`"
            )
    return rows


def _row_problem(row: object, valid_kinds: tuple[str, ...]) -> str | None:
    if not isinstance(row, dict):
        return "is not a JSON object"
    for name in ("prompt", "target", "source_id"):
        if not isinstance(row.get(name), str) or not row[name].strip():
            return f"has no non-empty string field {name!r}"
    if row.get("kind") not in valid_kinds:
        return f"has kind {row.get('kind')!r}, expected one of {', '.join(valid_kinds)}"
    return None
