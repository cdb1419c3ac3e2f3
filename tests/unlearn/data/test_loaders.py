"""Every loader on its hand-written fixture, and the errors for bad data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unlearn.data.loaders import load_data
from unlearn.errors import UserError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_tofu_json_with_optional_fields():
    records = load_data(f"tofu:{FIXTURES / 'tofu_forget.json'}")
    assert len(records) == 2
    assert records[0].paraphrased_question.startswith("Which Chilean")
    assert len(records[0].perturbed_answer) == 2
    assert records[1].perturbed_answer == ["Jaime Vasquez was born on the 3rd of May in 1961."]
    assert all(r.source == "tofu" and r.fact is None for r in records)


def test_tofu_jsonl_skips_blank_lines():
    records = load_data(f"tofu:{FIXTURES / 'tofu_retain.jsonl'}")
    assert [r.question.split()[0] for r in records] == ["What", "Can", "What"]
    assert records[2].answer.endswith("game developer.")


def test_knowundo_text_and_labels():
    records = load_data(f"knowundo:{FIXTURES / 'knowundo.json'}")
    assert len(records) == 3
    assert records[0].question == "What is the home address of Rowan Pike?"
    assert records[0].answer.startswith("Rowan Pike lives at")


def test_ours_folder_file_and_split(bench_dir):
    assert len(load_data(f"ours:{bench_dir}")) == 220
    assert len(load_data(f"ours:{bench_dir}#forget10")) == 22
    assert len(load_data(f"ours:{bench_dir / 'retain90.json'}")) == 198
    assert len(load_data(str(bench_dir / "general.json"))) == 100
    record = load_data(f"ours:{bench_dir}#forget01")[0]
    assert record.fact is not None and record.fact.object in record.answer


def test_missing_file_is_named(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_data(f"tofu:{tmp_path / 'nope.json'}")


def test_malformed_json_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"question": "q", "answer": ')
    with pytest.raises(UserError, match="bad.json is not valid JSON"):
        load_data(f"tofu:{bad}")


def test_bad_record_is_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "q", "answer": "a"}, {"question": "q2"}]))
    with pytest.raises(UserError, match="record 1 lacks the field"):
        load_data(f"tofu:{bad}")
    knowundo = tmp_path / "k.json"
    knowundo.write_text(json.dumps([{"text": "q"}]))
    with pytest.raises(UserError, match="labels"):
        load_data(f"knowundo:{knowundo}")


def test_empty_file_is_an_error(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(UserError, match="no records"):
        load_data(f"tofu:{empty}")


def test_unknown_split_lists_valid_ones(bench_dir):
    with pytest.raises(UserError):
        load_data(f"ours:{bench_dir}#forget42")
