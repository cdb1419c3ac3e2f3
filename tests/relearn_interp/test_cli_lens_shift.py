"""The logit-lens and shift commands: the files they declare, and one-line refusals of bad input."""

from __future__ import annotations

import json
import shutil

import pytest

from relearn_interp.cli import main
from relearn_interp.commands import logit_lens as lens_command
from relearn_interp.commands import shift as shift_command
from unlearn.io import read_json

FORGET = "#forget10"


def declared(module) -> list[str]:
    return [
        module.RESULTS,
        *(f"{figure}.{ext}" for figure in module.FIGURES for ext in ("png", "pdf")),
    ]


def run_refused(argv: list[str], capsys) -> str:
    """Run a command that must refuse: exit 2, a one-line error (after any loading bars), no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("relearn-interp: error:")]
    assert len(errors) == 1 and err.endswith(errors[0]) and "Traceback" not in err
    return errors[0]


@pytest.fixture(scope="module")
def other_tokenizer_ckpt(tiny_base, tmp_path_factory):
    """The tiny model beside a tokenizer with one extra token."""
    from unlearn.models import load_tokenizer

    folder = tmp_path_factory.mktemp("other") / "other-tok"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_base / name, folder / name)
    tokenizer = load_tokenizer(tiny_base)
    tokenizer.add_tokens(["<|extra|>"])
    tokenizer.save_pretrained(folder)
    return folder


def test_logit_lens_writes_what_it_declares(vanilla_ckpt, tiny_base, bench_dir, tmp_path, capsys):
    out = tmp_path / "lens"
    argv = [
        "logit-lens",
        "--ckpt",
        str(vanilla_ckpt),
        "--ckpt",
        f"base={tiny_base}",
        "--data",
        f"ours:{bench_dir}{FORGET}",
        "--out",
        str(out),
        "--max-prompts",
        "5",
        "--mid",
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(declared(lens_command))
    assert all((out / name).stat().st_size > 1000 for name in declared(lens_command))
    results = read_json(out / lens_command.RESULTS)
    assert set(results) == {"meta", "values", "items"}
    assert results["meta"]["data"].endswith(FORGET) and results["meta"]["n_prompts"] == 5
    assert results["meta"]["versions"]["transformer-lens"] and results["meta"]["backend"]["lens"]
    assert len(results["values"]["sites"]) == 8  # 4 blocks, mid and post
    vanilla = results["values"]["checkpoints"]["vanilla"]
    untrained = results["values"]["checkpoints"]["base"]
    # the fine-tuned model recalls the forget facts; the random base does not
    assert vanilla["output"]["top1_rate"] >= 0.8 > untrained["output"]["top1_rate"]
    assert (
        vanilla["summary"]["output_target_prob"] > 10 * untrained["summary"]["output_target_prob"]
    )
    assert "vanilla:" in capsys.readouterr().out
    assert "already exists" in run_refused(argv, capsys)


def test_shift_writes_what_it_declares(vanilla_ckpt, tiny_base, bench_dir, tmp_path, capsys):
    out = tmp_path / "shift"
    argv = [
        "shift",
        "--base",
        str(vanilla_ckpt),
        "--ckpt",
        f"random={tiny_base}",
        "--data",
        f"ours:{bench_dir}{FORGET}",
        "--out",
        str(out),
        "--max-prompts",
        "4",
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(declared(shift_command))
    results = json.loads((out / shift_command.RESULTS).read_text())
    random_model = results["values"]["models"]["random"]
    assert results["values"]["base_label"] == "vanilla"
    assert random_model["mean"]["js"] > 0.5  # a random model is far from the memorising one
    assert random_model["mean"]["entropy_change"] > 1.0
    assert (
        len(results["items"]) == 4
        and "moved_to_unrelated" in results["items"][0]["models"]["random"]
    )


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
