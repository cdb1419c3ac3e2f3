"""`unlearn train` end to end on the tiny preset: methods unlearn, checkpoints load, runs resume
exactly, divergence and Ctrl-C keep a usable checkpoint, bad input fails with one line."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from unlearn.cli import main
from unlearn.data.loaders import load_data
from unlearn.errors import UserError
from unlearn.io import write_json
from unlearn.models.card import read_card
from unlearn.models.loading import load_model
from unlearn.recall.recall import fact_recall
from unlearn.training.checkpoint import RESUME_FILE
from unlearn.training.config import TrainConfig
from unlearn.training.loop import TrainingDiverged, TrainLoop
from unlearn.training.run import train

ROOT = Path(__file__).resolve().parents[3]


pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.integration]


@pytest.fixture(scope="module")
def specs(bench_dir) -> dict[str, str]:
    return {"forget": f"ours:{bench_dir}#forget10", "retain": f"ours:{bench_dir}#retain90"}


@pytest.fixture(scope="module")
def recall_sets(bench_dir):
    """The forget set, and every fifth retain record (recall is the slow part of these tests)."""
    return load_data(f"ours:{bench_dir}#forget10"), load_data(f"ours:{bench_dir}#retain90")[::5]


@pytest.fixture(scope="module")
def vanilla_recall(vanilla_ckpt, recall_sets) -> tuple[float, float]:
    model, tokenizer = load_model(vanilla_ckpt)
    forget, retain = recall_sets
    return fact_recall(model, tokenizer, forget, progress=False)[0], fact_recall(
        model, tokenizer, retain, progress=False
    )[0]


def recall_of(ckpt: Path, recall_sets) -> tuple[float, float]:
    model, tokenizer = load_model(ckpt)
    forget, retain = recall_sets
    return fact_recall(model, tokenizer, forget, progress=False)[0], fact_recall(
        model, tokenizer, retain, progress=False
    )[0]


@pytest.mark.parametrize("method", ["ga", "npo"])
def test_reverse_optimisation_drives_forget_recall_down(
    method, vanilla_ckpt, specs, recall_sets, vanilla_recall, tmp_path
):
    config = TrainConfig.for_preset(vanilla_ckpt, method)
    card = train(method, vanilla_ckpt, specs["forget"], None, tmp_path / method, config)
    forget, _ = recall_of(tmp_path / method, recall_sets)
    assert vanilla_recall[0] >= 0.9
    assert forget <= 0.3, f"{method} left forget recall at {forget:.0%}"
    assert (
        card["complete"] and card["method"] == method and len(card["losses"]) == card["total_steps"]
    )


def test_relearn_forgets_and_keeps_retain_recall(
    vanilla_ckpt, specs, relearn_file, recall_sets, vanilla_recall, tmp_path
):
    config = TrainConfig.for_preset(vanilla_ckpt, "relearn")
    train(
        "relearn",
        vanilla_ckpt,
        specs["forget"],
        specs["retain"],
        tmp_path / "relearn",
        config,
        relearn_data=relearn_file,
    )
    forget, retain = recall_of(tmp_path / "relearn", recall_sets)
    assert forget <= 0.3, f"ReLearn left forget recall at {forget:.0%}"
    assert retain >= 0.8 * vanilla_recall[1], (
        f"retain recall fell to {retain:.0%} from {vanilla_recall[1]:.0%}"
    )


def interrupt_at(monkeypatch, step: int) -> None:
    """Make the loop raise KeyboardInterrupt (as Ctrl-C would) before optimizer step `step`."""
    original = TrainLoop._train_step

    def interrupted(self, group):
        if self.step + 1 == step:
            raise KeyboardInterrupt
        return original(self, group)

    monkeypatch.setattr(TrainLoop, "_train_step", interrupted)


@pytest.mark.parametrize(("method", "lora"), [("npo_klr", True), ("ga_gdr_sure", False)])
def test_resume_after_ctrl_c_equals_an_uninterrupted_run(
    method, lora, vanilla_ckpt, small_specs, tmp_path, monkeypatch
):
    config = TrainConfig.for_preset(
        vanilla_ckpt, method, lora=lora, epochs=2, batch_size=4, save_every=2
    )
    args = (method, vanilla_ckpt, small_specs["forget"], small_specs["retain"])
    whole = train(*args, tmp_path / "whole", config)
    interrupt_at(monkeypatch, step=4)
    with pytest.raises(KeyboardInterrupt):
        train(*args, tmp_path / "resumed", config)
    saved = read_card(tmp_path / "resumed")
    assert (saved["step"], saved["complete"], saved["stopped"]) == (3, False, "interrupted")
    monkeypatch.undo()
    resumed = train(*args, tmp_path / "resumed", config, resume=True)
    assert resumed["losses"] == whole["losses"] and resumed["step"] == whole["total_steps"] == 4
    a, b = (
        load_model(tmp_path / "whole")[0].state_dict(),
        load_model(tmp_path / "resumed")[0].state_dict(),
    )
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(
    vanilla_ckpt, small_specs, tmp_path, monkeypatch
):
    """A NaN loss at step 4 (injected: fp32 GA on tiny saturates rather than overflowing) stops
    the run before that update; the checkpoint of step 3 stays and loads."""
    import unlearn.training.loop as train_module

    original, calls = train_module.compute_terms, []

    def poisoned(*args, **kwargs):
        terms = original(*args, **kwargs)
        calls.append(1)
        if len(calls) >= 4:
            terms.total = terms.total * float("nan")
        return terms

    monkeypatch.setattr(train_module, "compute_terms", poisoned)
    config = TrainConfig.for_preset(vanilla_ckpt, "ga", epochs=3, batch_size=4, save_every=1)
    out = tmp_path / "ga"
    with pytest.raises(
        TrainingDiverged,
        match=r"training diverged: the loss became nan at step 4; "
        r"kept the last good checkpoint .*ga \(step 3\)",
    ):
        train("ga", vanilla_ckpt, small_specs["forget"], None, out, config)
    card = read_card(out)
    assert (card["step"], card["complete"], len(card["losses"])) == (3, False, 3)
    assert all(math.isfinite(x) for x in card["losses"])
    model, _ = load_model(out)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_bad_input_fails_with_one_line(vanilla_ckpt, tiny_base, small_specs, tmp_path, capsys):
    with pytest.raises(
        UserError, match="unknown method 'gx'; valid methods: ga, ga_sure, .*relearn_klr"
    ):
        train("gx", vanilla_ckpt, small_specs["forget"], None, tmp_path / "x", TrainConfig())
    assert (
        main(
            [
                "train",
                "--method",
                "gx",
                "--model",
                str(vanilla_ckpt),
                "--forget",
                small_specs["forget"],
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert capsys.readouterr().err.count("\n") == 1
    bare = tmp_path / "no-tokenizer"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_base / name, bare / name)
    with pytest.raises(UserError, match="has no tokenizer"):
        train("ga", bare, small_specs["forget"], None, tmp_path / "y", TrainConfig())
    orphan = tmp_path / "adapter"
    write_json(
        orphan / "adapter_config.json",
        {"peft_type": "LORA", "base_model_name_or_path": str(tmp_path / "gone")},
    )
    with pytest.raises(UserError, match="base model .*gone of adapter .* is missing"):
        train("ga", orphan, small_specs["forget"], None, tmp_path / "z", TrainConfig())
    with pytest.raises(UserError, match="needs retain data"):
        train("ga_gdr", vanilla_ckpt, small_specs["forget"], None, tmp_path / "w", TrainConfig())
    with pytest.raises(UserError, match="needs ReLearn data"):
        train(
            "relearn",
            vanilla_ckpt,
            small_specs["forget"],
            small_specs["retain"],
            tmp_path / "v",
            TrainConfig(),
        )


def test_two_processes_match_one(vanilla_ckpt, small_specs, tmp_path):
    """accelerate launch, 2 CPU processes (gloo): one checkpoint, and the same losses as one process
    (the global batch is split and losses use global token counts, so the gradients agree)."""
    method = "ga_klr_sure"
    common = [
        "--method",
        method,
        "--model",
        str(vanilla_ckpt),
        "--forget",
        small_specs["forget"],
        "--retain",
        small_specs["retain"],
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--save-every",
        "0",
    ]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    launcher = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "-m",
        "unlearn.cli",
    ]
    result = subprocess.run(
        [*launcher, "train", *common, "--out", str(tmp_path / "two")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    two = read_card(tmp_path / "two")
    assert two["num_processes"] == 2 and two["complete"] and two["step"] == 2
    assert not (tmp_path / "two" / RESUME_FILE).exists()
    config = TrainConfig.for_preset(vanilla_ckpt, method, epochs=1, batch_size=4, save_every=0)
    one = train(
        method, vanilla_ckpt, small_specs["forget"], small_specs["retain"], tmp_path / "one", config
    )
    assert two["losses"] == pytest.approx(one["losses"], rel=1e-5, abs=1e-6)
