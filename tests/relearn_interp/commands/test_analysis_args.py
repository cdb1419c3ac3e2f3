"""The inputs the analysis commands share (checkpoints, data, adapters): one-line refusals."""

from __future__ import annotations

import json

import pytest

from tests.relearn_interp.commands.helpers import run_refused

pytestmark = pytest.mark.integration

FORGET = "#forget10"


def test_bad_inputs_are_refused_in_one_line(
    tiny_base, bench_dir, other_tokenizer_ckpt, tmp_path, capsys
):
    data = f"ours:{bench_dir}{FORGET}"
    common = ["--device", "cpu", "--max-prompts", "2"]
    err = run_refused(
        [
            "shift",
            "--base",
            f"tiny={tiny_base}",
            "--ckpt",
            f"other={other_tokenizer_ckpt}",
            "--data",
            data,
            "--out",
            str(tmp_path / "a"),
            *common,
        ],
        capsys,
    )
    assert "checkpoints tiny and other have different tokenizers" in err
    err = run_refused(
        [
            "logit-lens",
            "--ckpt",
            str(tiny_base),
            "--data",
            data,
            "--out",
            str(tmp_path / "b"),
            "--layers",
            "0,9",
            *common,
        ],
        capsys,
    )
    assert "layer 9 is out of range" in err
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    err = run_refused(
        [
            "logit-lens",
            "--ckpt",
            str(tiny_base),
            "--data",
            str(empty),
            "--out",
            str(tmp_path / "c"),
        ],
        capsys,
    )
    assert "holds no records" in err
    long = tmp_path / "long.json"
    long.write_text(json.dumps([{"id": "long-1", "question": "Why? " * 300, "answer": "Because."}]))
    err = run_refused(
        ["logit-lens", "--ckpt", str(tiny_base), "--data", str(long), "--out", str(tmp_path / "d")],
        capsys,
    )
    assert "record long-1" in err and "context of 256" in err
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": str(tmp_path / "gone")})
    )
    err = run_refused(
        [
            "shift",
            "--base",
            str(tiny_base),
            "--ckpt",
            str(adapter),
            "--data",
            data,
            "--out",
            str(tmp_path / "e"),
        ],
        capsys,
    )
    assert "is missing" in err
    assert not any((tmp_path / name).exists() for name in "abcde")
