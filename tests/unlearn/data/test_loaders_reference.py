"""Data specs that put the reference's GA/NPO setting one flag away: ascent on augmented data."""

from __future__ import annotations

import json

import pytest

from unlearn.augment.rows import make_row, rows_to_jsonl
from unlearn.data.loaders import load_data
from unlearn.errors import UserError


def test_relearn_spec_reads_augment_rows_as_qa_records(tmp_path):
    path = tmp_path / "relearn.jsonl"
    path.write_text(
        rows_to_jsonl(
            [
                make_row(
                    "Where does Ada live?", "Ada lives somewhere quiet.", "answer_variant", "a1"
                ),
                make_row("Ada's home is", "a place she rarely names.", "completion", "a1"),
            ]
        )
    )
    records = load_data(f"relearn:{path}")
    assert [(r.question, r.answer, r.source) for r in records] == [
        ("Where does Ada live?", "Ada lives somewhere quiet.", "relearn"),
        ("Ada's home is", "a place she rarely names.", "relearn"),
    ]
    assert len({r.id for r in records}) == 2
    path.write_text(json.dumps({"prompt": "q", "kind": "general", "source_id": "g"}) + "\n")
    with pytest.raises(UserError, match="record 0 lacks the field\\(s\\) target"):
        load_data(f"relearn:{path}")


def test_the_reference_augmented_files_load_with_their_benchmark_specs(tmp_path):
    # dataAugument/gather_proc_data.py writes KnowUnDo as a JSON list of {text, labels} and TOFU
    # as JSON Lines of {question, answer}: the files kud-baselines.sh ascends on
    knowundo = tmp_path / "knowundo_privacy.json"
    knowundo.write_text(json.dumps([{"text": "Who is X?", "labels": "X is someone."}] * 2))
    tofu = tmp_path / "tofu.jsonl"
    tofu.write_text(json.dumps({"question": "Who is Y?", "answer": "Y is someone."}) + "\n")
    assert [r.answer for r in load_data(f"knowundo:{knowundo}")] == ["X is someone."] * 2
    assert [r.question for r in load_data(f"tofu:{tofu}")] == ["Who is Y?"]
