"""What a run trains on: the augment JSONL or any QA data spec become (prompt, target) pairs, and
overlapping forget and retain sets warn with the count."""

from __future__ import annotations

import json

import pytest

from unlearn.data.loaders import load_data
from unlearn.errors import UserError
from unlearn.training.data import load_relearn_pairs


def test_augment_rows_and_qa_specs_become_pairs(bench_dir, tmp_path):
    rows = [
        {
            "prompt": "Where was A born?",
            "target": "In a town best left unnamed.",
            "kind": "answer_variant",
            "source_id": "a",
        },
        {
            "prompt": "A was",
            "target": "born somewhere quiet.",
            "kind": "completion",
            "source_id": "a",
        },
    ]
    path = tmp_path / "relearn.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_relearn_pairs(path) == [
        ("Where was A born?", "In a town best left unnamed."),
        ("A was", "born somewhere quiet."),
    ]
    records = load_data(f"ours:{bench_dir}#forget10")
    assert load_relearn_pairs(f"ours:{bench_dir}#forget10") == [
        (r.question, r.answer) for r in records
    ]


def test_a_malformed_row_names_its_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"prompt": "Q", "target": "", "kind": "general", "source_id": "g"}) + "\n"
    )
    with pytest.raises(UserError, match="row 1 has no non-empty string field 'target'"):
        load_relearn_pairs(path)


def test_overlapping_forget_and_retain_warn_with_the_count(bench_dir):
    from unlearn.methods import METHODS
    from unlearn.training.data import load_train_data

    with pytest.warns(UserWarning, match="22 retain question"):
        load_train_data(
            METHODS["ga_gdr"], f"ours:{bench_dir}#forget10", f"ours:{bench_dir}#full", None
        )
