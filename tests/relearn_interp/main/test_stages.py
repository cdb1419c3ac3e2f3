"""The main job's analysis stages: a child process gets its arguments as a typed dataclass and
writes what the command line writes; a failing child is one line naming its command."""

from __future__ import annotations

from dataclasses import replace

import pytest

from relearn_interp.cli import main
from relearn_interp.command_args import LensArgs
from relearn_interp.main import stages
from relearn_interp.main.settings import ReproduceSettings
from unlearn.errors import UserError
from unlearn.io import read_json

pytestmark = pytest.mark.integration


def test_a_stage_child_writes_what_the_command_line_writes(tiny_base, bench_dir, tmp_path):
    settings = replace(ReproduceSettings.for_preset("tiny"), forget_pct=10, lens_prompts=2)
    models = {"vanilla": tiny_base, "relearn": tiny_base}
    folder = tmp_path / "stage"
    folder.mkdir()
    stages.stage_lens(settings, models, bench_dir)(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["forget10", "retain90_eval"]
    out = tmp_path / "cli"
    argv = ["logit-lens", "--ckpt", f"vanilla={tiny_base}", "--ckpt", f"relearn={tiny_base}",
            "--data", f"ours:{bench_dir}#forget10", "--out", str(out), "--seed", "0",
            "--max-prompts", "2", "--positions", "slots"]  # fmt: skip
    assert main(argv) == 0
    child = folder / "forget10"
    assert sorted(p.name for p in child.iterdir()) == sorted(p.name for p in out.iterdir())
    assert read_json(child / "logit_lens.json") == read_json(out / "logit_lens.json")


def test_a_failing_child_is_one_line_naming_its_command(tmp_path):
    args = LensArgs(
        checkpoints=(("vanilla", str(tmp_path / "missing")),),
        data=str(tmp_path / "missing.json"),
        out=str(tmp_path / "out"),
    )
    with pytest.raises(UserError, match="`relearn-interp logit-lens` failed with exit code 2"):
        stages.run_child(args)
    assert not (tmp_path / "out").exists()
