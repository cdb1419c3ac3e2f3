"""The logit-lens command: the files it declares."""

from __future__ import annotations

import pytest

from relearn_interp.cli import main
from relearn_interp.commands import logit_lens as lens_command
from tests.relearn_interp.commands.helpers import declared, run_refused
from unlearn.io import read_json

pytestmark = pytest.mark.integration

FORGET = "#forget10"


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
