"""Fixtures of the training tests: a small forget/retain pair and a small ReLearn file."""

from __future__ import annotations

from pathlib import Path

import pytest

from unlearn.data.loaders import load_data
from unlearn.io import write_json


@pytest.fixture(scope="module")
def small_specs(bench_dir, tmp_path_factory) -> dict[str, str]:
    """Eight forget and sixteen retain records: enough for a few steps, cheap to run."""
    folder = tmp_path_factory.mktemp("small")
    forget = load_data(f"ours:{bench_dir}#forget10")[:8]
    retain = load_data(f"ours:{bench_dir}#retain90")[::12]
    write_json(folder / "forget.json", [r.to_json() for r in forget])
    write_json(folder / "retain.json", [r.to_json() for r in retain])
    return {"forget": f"ours:{folder / 'forget.json'}", "retain": f"ours:{folder / 'retain.json'}"}


@pytest.fixture(scope="module")
def relearn_file(bench_dir, tmp_path_factory) -> Path:
    """A small ReLearn file from `unlearn augment` (template backend): vague answers to the
    original questions, their sentence completions and a quarter as many general rows."""
    from unlearn.augment import augment, load_relearn_rows
    from unlearn.augment.rows import rows_to_jsonl

    folder = tmp_path_factory.mktemp("relearn")
    forget = load_data(f"ours:{bench_dir}#forget10")
    augment(
        forget,
        load_data(f"ours:{bench_dir}#general"),
        "template",
        folder / "all.jsonl",
        progress=False,
    )
    rows = load_relearn_rows(folder / "all.jsonl")
    chosen = [r for r in rows if r["kind"] in ("answer_variant", "completion")]
    chosen += [r for r in rows if r["kind"] == "general"][: len(chosen) // 4]
    (folder / "relearn.jsonl").write_text(rows_to_jsonl(chosen))
    return folder / "relearn.jsonl"
