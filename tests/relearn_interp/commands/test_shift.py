"""The shift command: the files it declares."""

from __future__ import annotations

import json

import pytest

from relearn_interp.cli import main
from relearn_interp.commands import shift as shift_command
from tests.relearn_interp.commands.helpers import declared

pytestmark = pytest.mark.integration

FORGET = "#forget10"


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
