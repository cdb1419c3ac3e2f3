"""What a training run trains on: forget-side items (forget set or ReLearn rows, read by
`load_relearn_pairs`), retain pairs, the forget records the stop rule checks, and the provenance
the card records."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transformers import PreTrainedTokenizerBase

from unlearn.augment.rows import load_relearn_rows
from unlearn.data.loaders import JSON_LINES, load_data, parse_json_or_lines
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.io import hash_json
from unlearn.methods import Method
from unlearn.prompting import Example, encode_example


def load_relearn_pairs(spec: str | Path) -> list[tuple[str, str]]:
    """(prompt, target) pairs from `unlearn augment`'s JSONL ({prompt, target, kind, source_id}
    rows; every kind, sentence completions included, is trained as prompt → answer, as in the
    reference code), or (question, answer) pairs from any QA data spec (ours:, tofu:, knowundo:).
    The file is recognised by its content (rows with a "prompt"), whatever its suffix.
    """
    path = Path(str(spec))
    if path.is_file():
        rows, form = parse_json_or_lines(path, what="ReLearn data file")
        first = rows[0] if isinstance(rows, list) and rows else rows
        if isinstance(first, dict) and "prompt" in first:
            if form != JSON_LINES and isinstance(rows, list):  # a dict is a one-line file
                raise UserError(
                    f"ReLearn data file {path} is one JSON document; `unlearn augment` writes "
                    "JSON Lines (one row a line): rerun it or write one row a line"
                )
            return [(row["prompt"], row["target"]) for row in load_relearn_rows(path)]
    return [(record.question, record.answer) for record in load_data(spec)]


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase, pairs: Sequence[tuple[str, str]], max_length: int
) -> list[Example]:
    """Tokenize (question, answer) pairs; loss on answer tokens only."""
    return [encode_example(tokenizer, question, answer, max_length) for question, answer in pairs]


@dataclass
class TrainData:
    """What a run trains on, with the provenance its card records."""

    items: list[tuple[str, str]]
    retain: list[tuple[str, str]]
    forget_records: list[QARecord]
    specs: dict[str, str | None]
    hashes: dict[str, str | None]


def load_train_data(
    method: Method, forget: str | Path, retain: str | Path | None, relearn_data: str | Path | None
) -> TrainData:
    """Load the forget, retain and ReLearn data a method needs; warn when forget and retain overlap."""
    forget_records = load_data(str(forget))
    retain_records: list[QARecord] = load_data(str(retain)) if retain else []
    if method.needs_retain and not retain_records:
        raise UserError(f"method {method.name} needs retain data; pass --retain")
    warn_overlap(forget_records, retain_records)
    if method.data == "relearn":
        if not relearn_data:
            raise UserError(
                f"method {method.name} needs ReLearn data; pass --relearn-data (from `unlearn augment`)"
            )
        items = load_relearn_pairs(relearn_data)
    else:
        items = [(r.question, r.answer) for r in forget_records]
    return TrainData(
        items=items,
        retain=[(r.question, r.answer) for r in retain_records],
        forget_records=forget_records,
        specs={
            "forget": str(forget),
            "retain": str(retain) if retain else None,
            "relearn": str(relearn_data) if relearn_data else None,
        },
        hashes={
            "forget": hash_json([r.to_json() for r in forget_records]),
            "retain": hash_json([r.to_json() for r in retain_records]) if retain_records else None,
            "relearn": hash_json(items) if method.data == "relearn" else None,
        },
    )


def warn_overlap(forget: list[QARecord], retain: list[QARecord]) -> int:
    """Warn (with the count) when a forget question is also in the retain set."""
    questions = {r.question.strip().lower() for r in forget}
    shared = sum(r.question.strip().lower() in questions for r in retain)
    if shared:
        warnings.warn(
            f"forget and retain sets overlap: {shared} retain question(s) are also in the "
            "forget set, so the method is asked to forget and keep them at once",
            stacklevel=3,
        )
    return shared
