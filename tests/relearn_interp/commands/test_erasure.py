"""`relearn-interp erasure`: the files it declares, readable figures, one-line refusals."""

from __future__ import annotations

import pytest
from PIL import Image

from relearn_interp.cli import main
from relearn_interp.commands import erasure as erasure_command
from unlearn.io import read_json
from unlearn.models.card import CARD_FILE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def suppressed_ckpt(suppressed, tmp_path_factory):
    folder = tmp_path_factory.mktemp("suppressed") / "suppressed"
    suppressed.model.save_pretrained(folder)
    suppressed.tokenizer.save_pretrained(folder)
    (folder / CARD_FILE).write_text('{"method": "ga"}')
    return folder


def _argv(vanilla_ckpt, suppressed_ckpt, bench_dir, out, *extra) -> list[str]:
    return [
        "erasure",
        "--base",
        f"vanilla={vanilla_ckpt}",
        "--ckpt",
        str(suppressed_ckpt),
        "--data",
        f"ours:{bench_dir}#forget10",
        "--retain",
        f"ours:{bench_dir}#retain90",
        "--out",
        str(out),
        "--device",
        "cpu",
        *extra,
    ]


def run_refused(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    errors = [
        line
        for line in err.splitlines()
        if line.startswith("relearn-interp") and ": error: " in line
    ]
    assert len(errors) == 1 and err.endswith(errors[0]) and "Traceback" not in err
    return errors[0]


def test_erasure_writes_what_it_declares(vanilla_ckpt, suppressed_ckpt, bench_dir, tmp_path):
    out = tmp_path / "erasure"
    argv = _argv(
        vanilla_ckpt, suppressed_ckpt, bench_dir, out, "--relearn-steps", "1", "--bits", "8"
    )
    assert main(argv) == 0
    declared = [
        erasure_command.RESULTS,
        *(f"{f}.{ext}" for f in erasure_command.FIGURES for ext in ("png", "pdf")),
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(declared)
    for figure in erasure_command.FIGURES:
        with Image.open(out / f"{figure}.png") as image:
            assert 800 <= max(image.size) <= 4000
    results = read_json(out / erasure_command.RESULTS)
    assert results["values"]["judgements"] == {"ga": "suppressed"}  # labelled by its card
    assert results["meta"]["data"].endswith("#forget10") and results["meta"]["versions"]
    assert results["values"]["claim"]["verdict"] == "inconclusive"  # no ReLearn checkpoint
    assert main(argv) == 2  # refuses to replace without --overwrite


def test_erasure_refuses_bad_input(vanilla_ckpt, suppressed_ckpt, bench_dir, tmp_path, capsys):
    out = tmp_path / "refused"
    message = run_refused(
        _argv(vanilla_ckpt, suppressed_ckpt, bench_dir, out, "--bits", "3"), capsys
    )
    assert "--bits" in message and "3" in message
    message = run_refused(
        _argv(vanilla_ckpt, suppressed_ckpt, bench_dir, out, "--relearn-steps", "-1"), capsys
    )
    assert "--relearn-steps" in message
    assert not out.exists()
