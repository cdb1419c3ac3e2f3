"""The bad-input sweep as a table: each row is a command, an input, the exit code and a fragment of
the one line it must print. Every row also checks that nothing was left at --out.

Most rows fail before any model loads; the --top-k rows load the tiny preset (about a second).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from relearn_interp.cli import main as interp_main
from unlearn.cli import main as unlearn_main

CLIS = {"unlearn": unlearn_main, "relearn-interp": interp_main}


def no_write_access(monkeypatch, out: Path) -> None:
    """As if the output's folder were read-only (the tests may run as root, who can write anywhere)."""
    import unlearn.outputs

    out.parent.mkdir(parents=True)
    real = os.access
    monkeypatch.setattr(
        unlearn.outputs.os,
        "access",
        lambda path, mode: False if Path(path) == out.parent else real(path, mode),
    )


def no_cuda(monkeypatch, out: Path) -> None:
    import unlearn.devices

    monkeypatch.setattr(unlearn.devices, "cuda_device_count", lambda: 0)


def one_cuda(monkeypatch, out: Path) -> None:
    import unlearn.devices

    monkeypatch.setattr(unlearn.devices, "cuda_device_count", lambda: 1)


def live_lock(monkeypatch, out: Path) -> None:
    """Another live process (this test's parent) holds the output's lock."""
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.parent / f".{out.name}.lock").write_text(f"{os.getppid()}\n")


def existing_output(monkeypatch, out: Path) -> None:
    out.mkdir(parents=True)
    (out / "logit_lens.json").write_text("{}")


@dataclass(frozen=True)
class Case:
    id: str
    cli: str
    argv: str  # {name} placeholders: the inputs fixture, and {out}
    code: int
    fragment: str
    setup: Callable | None = None


LENS = "logit-lens --data ours:{bench}#forget10 --out {out} --device cpu"
SHIFT = "shift --base {tiny} --data ours:{bench}#forget10 --out {out} --device cpu"
EVAL = "eval --forget ours:{bench}#forget10 --retain ours:{bench}#retain90 --out {out}"
ERASURE = "erasure --data ours:{bench}#forget10 --retain ours:{bench}#retain90 --out {out}"
CIRCUIT = "circuit --ckpt {tiny} --out {out} --device cpu"
ENTITY = "--entity X --data ours:{bench}"
DIFF = "circuit-diff --ckpt {tiny} --out {out} --device cpu"
TRAIN = "train --method ga --forget ours:{bench}#forget10 --out {out}"
FINETUNE = "finetune --base tiny --data ours:{bench} --out {out}"

CASES = [
    # broken checkpoints: weights, config, card, adapter
    Case("lens-garbage-weights", "relearn-interp", LENS + " --ckpt {garbage}", 2, "is corrupt"),
    Case(
        "shift-truncated-weights", "relearn-interp", SHIFT + " --ckpt {truncated}", 2, "is corrupt"
    ),
    Case("eval-garbage-weights", "unlearn", EVAL + " --model {garbage}", 2, "is corrupt"),
    Case(
        "circuit-diff-truncated-weights",
        "relearn-interp",
        DIFF + " --ckpt {truncated} " + ENTITY,
        2,
        "is corrupt",
    ),
    Case("lens-missing-config", "relearn-interp", LENS + " --ckpt {noconfig}", 2, "no config.json"),
    Case("eval-empty-config", "unlearn", EVAL + " --model {emptyconfig}", 2, "model config"),
    Case("lens-bad-card", "relearn-interp", LENS + " --ckpt {badcard}", 2, "checkpoint card"),
    Case("eval-bad-card", "unlearn", EVAL + " --model {badcard}", 2, "checkpoint card"),
    Case(
        "erasure-bad-card",
        "relearn-interp",
        ERASURE + " --base {badcard} --ckpt {tiny}",
        2,
        "checkpoint card",
    ),
    Case("train-bad-card", "unlearn", TRAIN + " --model {badcard}", 2, "checkpoint card"),
    Case("lens-bad-adapter", "relearn-interp", LENS + " --ckpt {badadapter}", 2, "adapter config"),
    Case("eval-bad-adapter", "unlearn", EVAL + " --model {badadapter}", 2, "adapter config"),
    # outputs that cannot be written, found before the work starts
    Case(
        "lens-unwritable",
        "relearn-interp",
        LENS + " --ckpt {tiny}",
        2,
        "not writable",
        no_write_access,
    ),
    Case(
        "circuit-unwritable",
        "relearn-interp",
        CIRCUIT + " " + ENTITY,
        2,
        "not writable",
        no_write_access,
    ),
    Case(
        "eval-unwritable", "unlearn", EVAL + " --model {tiny}", 2, "not writable", no_write_access
    ),
    Case(
        "data-unwritable", "unlearn", "data build --out {out}", 2, "not writable", no_write_access
    ),
    Case(
        "compare-unwritable",
        "unlearn",
        "compare {good} --out {out}",
        2,
        "not writable",
        no_write_access,
    ),
    Case(
        "train-unwritable",
        "unlearn",
        TRAIN + " --model {tiny}",
        2,
        "not writable",
        no_write_access,
    ),
    Case(
        "finetune-unwritable",
        "unlearn",
        FINETUNE,
        2,
        "not writable",
        no_write_access,
    ),
    # numbers
    Case(
        "lens-batch-0",
        "relearn-interp",
        LENS + " --ckpt {tiny} --batch-size 0",
        2,
        "--batch-size: must be at least 1",
    ),
    Case(
        "eval-batch-0",
        "unlearn",
        EVAL + " --model {tiny} --batch-size 0",
        2,
        "--batch-size: must be at least 1",
    ),
    Case(
        "eval-new-tokens-neg",
        "unlearn",
        EVAL + " --model {tiny} --max-new-tokens -1",
        2,
        "--max-new-tokens: must be at least 1",
    ),
    Case(
        "eval-new-tokens-0",
        "unlearn",
        EVAL + " --model {tiny} --max-new-tokens 0",
        2,
        "--max-new-tokens: must be at least 1",
    ),
    Case(
        "erasure-new-tokens-0",
        "relearn-interp",
        ERASURE + " --base {tiny} --ckpt {tiny} --max-new-tokens 0",
        2,
        "--max-new-tokens: must be at least 1",
    ),
    Case(
        "lens-top-k-vocab",
        "relearn-interp",
        LENS + " --ckpt {tiny} --top-k 100000",
        2,
        "larger than the vocabulary",
    ),
    Case(
        "shift-top-k-vocab",
        "relearn-interp",
        SHIFT + " --ckpt other={tiny} --top-k 100000",
        2,
        "larger than the vocabulary",
    ),
    Case(
        "circuit-grid-nan",
        "relearn-interp",
        CIRCUIT + " " + ENTITY + " --grid nan,1",
        2,
        "--grid: expected a finite number",
    ),
    Case(
        "diff-grid-nan",
        "relearn-interp",
        DIFF + " --ckpt {tiny} " + ENTITY + " --grid nan,1",
        2,
        "--grid: expected a finite number",
    ),
    Case(
        "circuit-grid-no-1",
        "relearn-interp",
        CIRCUIT + " " + ENTITY + " --grid 0.1,0.5",
        2,
        "end at 1",
    ),
    Case("data-authors-1", "unlearn", "data build --out {out} --authors 1", 2, "between 2 and 200"),
    Case(
        "reproduce-authors-1",
        "relearn-interp",
        "reproduce --preset tiny --work {out} --authors 1",
        2,
        "--authors: must be between 2 and 200",
    ),
    Case(
        "train-max-grad-norm-neg",  # was accepted, with exit 0
        "unlearn",
        TRAIN + " --model {tiny} --max-grad-norm -1",
        2,
        "--max-grad-norm: must be at least 0",
    ),
    Case(
        "train-lr-inf",
        "unlearn",
        TRAIN + " --model {tiny} --lr inf",
        2,
        "--lr: expected a finite number",
    ),
    Case(
        "train-lora-dropout-1",
        "unlearn",
        TRAIN + " --model {tiny} --lora-dropout 1",
        2,
        "--lora-dropout: must be in [0, 1)",
    ),
    Case(
        "finetune-batch-0",
        "unlearn",
        FINETUNE + " --batch-size 0",
        2,
        "--batch-size: must be at least 1",
    ),
    # devices
    Case(
        "lens-device-bogus",
        "relearn-interp",
        LENS + " --ckpt {tiny} --device bogus",
        2,
        "is not a device",
    ),
    Case(
        "eval-device-bogus",
        "unlearn",
        EVAL + " --model {tiny} --device bogus",
        2,
        "is not a device",
    ),
    Case(
        "erasure-device-bogus",
        "relearn-interp",
        ERASURE + " --base {tiny} --ckpt {tiny} --device bogus",
        2,
        "is not a device",
    ),
    Case(
        "lens-no-cuda",
        "relearn-interp",
        LENS + " --ckpt {tiny} --device cuda",
        2,
        "CUDA is not available",
        no_cuda,
    ),
    Case(
        "circuit-no-cuda",
        "relearn-interp",
        CIRCUIT + " " + ENTITY + " --device cuda",
        2,
        "CUDA is not available",
        no_cuda,
    ),
    Case(
        "eval-no-cuda",
        "unlearn",
        EVAL + " --model {tiny} --device cuda",
        2,
        "CUDA is not available",
        no_cuda,
    ),
    Case(
        "shift-cuda-index",
        "relearn-interp",
        SHIFT + " --ckpt other={tiny} --device cuda:3",
        2,
        "has 1 CUDA device",
        one_cuda,
    ),
    # hand-edited results
    Case("compare-meta-str", "unlearn", "compare {meta_str}", 2, "(meta: "),
    Case("compare-robustness-str", "unlearn", "compare {robust_str}", 2, "values.robustness.int8"),
    Case("compare-backends-list", "unlearn", "compare {backends_list}", 2, "meta.backends"),
    Case("compare-forget-list", "unlearn", "compare {forget_list}", 2, "values.forget"),
    Case("compare-half-json", "unlearn", "compare {half}", 2, "is not valid JSON"),
    Case("compare-not-utf8", "unlearn", "compare {latin1}", 2, "is not UTF-8"),
    Case(
        "figures-empty-run",
        "relearn-interp",
        "figures --results {run_empty} --out {out}",
        2,
        "run summary",
    ),
    Case(
        "figures-extra-setting",
        "relearn-interp",
        "figures --results {run_extra} --out {out}",
        2,
        "unknown key(s) surprise",
    ),
    Case(
        "figures-missing-stage",
        "relearn-interp",
        "figures --results {run_nostage} --out {out}",
        2,
        "does not exist",
    ),
    Case(
        "figures-half-eval",
        "relearn-interp",
        "figures --results {run_halfeval} --out {out}",
        2,
        "is not valid JSON",
    ),
    Case(
        "figures-not-utf8-eval",
        "relearn-interp",
        "figures --results {run_latin1eval} --out {out}",
        2,
        "is not UTF-8",
    ),
    Case(
        "figures-bad-eval",
        "relearn-interp",
        "figures --results {run_badeval} --out {out}",
        2,
        "not an `unlearn eval` results file",
    ),
    Case(
        "figures-bad-marker",
        "relearn-interp",
        "figures --results {run_badmarker} --out {out}",
        2,
        "stage marker has no 'seconds'",
    ),
    # the pairs CSV
    Case(
        "circuit-csv-latin1",
        "relearn-interp",
        CIRCUIT + " --pairs {pairs_latin1}",
        2,
        "is not UTF-8",
    ),
    Case(
        "circuit-csv-short-row",
        "relearn-interp",
        CIRCUIT + " --pairs {pairs_short}",
        2,
        "line 2 has no value",
    ),
    # one writer per output
    Case(
        "lens-locked", "relearn-interp", LENS + " --ckpt {tiny}", 2, "another run (pid", live_lock
    ),
    Case(
        "circuit-locked", "relearn-interp", CIRCUIT + " " + ENTITY, 2, "another run (pid", live_lock
    ),
    Case("data-locked", "unlearn", "data build --out {out}", 2, "another run (pid", live_lock),
    Case(
        "lens-existing-out",
        "relearn-interp",
        LENS + " --ckpt {tiny}",
        2,
        "--overwrite",
        existing_output,
    ),
]


def run_cli(cli: str, argv: list[str]) -> int:
    try:
        return CLIS[cli](argv)
    except SystemExit as stop:  # argparse
        return int(stop.code)


# the cases that load a model before they refuse
LOADS_A_MODEL = ("lens-top-k-vocab", "shift-top-k-vocab", "eval-batch-0")


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, marks=pytest.mark.integration) if case.id in LOADS_A_MODEL else case
        for case in CASES
    ],
    ids=[case.id for case in CASES],
)
def test_bad_input_is_one_line_and_leaves_nothing(case, inputs, tmp_path, monkeypatch, capsys):
    out = tmp_path / "work" / "out"
    if case.setup:
        case.setup(monkeypatch, out)
    before = sorted(p.name for p in out.parent.iterdir()) if out.parent.exists() else []
    argv = case.argv.format(**inputs, out=out).split()
    code = run_cli(case.cli, argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == case.code, err
    assert len(lines) == 1, err
    assert case.fragment in lines[0]
    assert "Traceback" not in err
    after = sorted(p.name for p in out.parent.iterdir()) if out.parent.exists() else []
    assert after == before  # no output, no temporary folder, no lock of ours


def test_the_table_covers_every_command_the_issue_names():
    commands = {case.argv.split()[0] for case in CASES}
    assert commands >= {"logit-lens", "shift", "eval", "erasure", "circuit", "circuit-diff"}
    assert commands >= {"compare", "figures", "data", "train", "finetune", "reproduce"}
