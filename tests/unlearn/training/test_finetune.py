"""The vanilla target model memorises its facts; the finetune CLI and its errors."""

from __future__ import annotations

import json

import pytest

from unlearn.cli import main
from unlearn.data.loaders import load_data
from unlearn.models.card import read_card
from unlearn.models.loading import load_model
from unlearn.recall.recall import fact_recall


@pytest.mark.integration
def test_tiny_vanilla_memorises_forget_and_retain(vanilla_ckpt, bench_dir):
    card = read_card(vanilla_ckpt)
    assert card["method"] == "vanilla" and card["base"] == "tiny"
    assert card["recall"]["forget"] >= 0.9 and card["recall"]["retain"] >= 0.9
    assert card["losses"][-1] < card["losses"][0] / 10
    # Recompute on the saved folder rather than trusting the card.
    model, tokenizer = load_model(vanilla_ckpt)
    score, details = fact_recall(
        model, tokenizer, load_data(f"ours:{bench_dir}#forget10"), progress=False
    )
    assert score >= 0.9
    assert all(
        d["gold"][0].lower() in d["generated"].lower() for d in details if d["recalled_exact"]
    )
    assert sum(d["recalled"] for d in details) >= sum(d["recalled_exact"] for d in details)


@pytest.mark.integration
def test_finetune_cli_writes_a_checkpoint_with_a_card(tmp_path, bench_dir, capsys):
    out = tmp_path / "ckpt"
    code = main(
        [
            "finetune",
            "--base",
            "tiny",
            "--data",
            f"ours:{bench_dir}#forget10",
            "--out",
            str(out),
            "--epochs",
            "1",
            "--lora",
        ]
    )
    assert code == 0
    card = json.loads((out / "relearn.json").read_text())
    assert card["hyperparameters"]["lora"] is True and card["hyperparameters"]["epochs"] == 1
    assert len(card["data_hash"]) == 16 and "torch" in card["versions"]
    assert (out / "model.safetensors").is_file() and (out / "tokenizer_config.json").is_file()
    assert "fact recall" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["finetune", "--base", "tiny7", "--data", "DATA", "--out", "OUT"],
            "unknown preset 'tiny7'; valid presets: tiny, smollm2-135m",
        ),
        (
            ["finetune", "--base", "tiny", "--data", "tofu:MISSING", "--out", "OUT"],
            "does not exist",
        ),
        (
            ["finetune", "--base", "tiny", "--data", "tofu:BAD", "--out", "OUT"],
            "record 0 lacks the field(s) answer",
        ),
        (
            ["finetune", "--base", "tiny", "--data", "DATA", "--out", "EXISTING"],
            "already exists; pass --overwrite",
        ),
        (
            ["finetune", "--base", "./EMPTYMODEL", "--data", "DATA", "--out", "OUT"],
            "holds no weights",
        ),
        (
            ["data", "build", "--out", "OUT", "--forget-pcts", "5,120"],
            "forget percentage must be in (0, 100)",
        ),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(
    argv, message, tmp_path, bench_dir, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "BAD").write_text(json.dumps([{"question": "q"}]))
    (tmp_path / "EXISTING").mkdir()
    (tmp_path / "EXISTING" / "keep.txt").write_text("x")
    (tmp_path / "EMPTYMODEL").mkdir()
    argv = [a.replace("DATA", f"ours:{bench_dir}#forget01") if a == "DATA" else a for a in argv]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "OUT").exists()
    assert (tmp_path / "EXISTING" / "keep.txt").read_text() == "x"


def test_failed_write_leaves_no_half_written_folder(tmp_path):
    from unlearn.io import atomic_dir

    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "out") as tmp:
        (tmp / "partial.bin").write_text("half")
        raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


def test_general_facts_are_trained_only_when_asked(bench_dir):
    from unlearn.training.finetune import FinetuneConfig, training_records

    benchmark = load_data(f"ours:{bench_dir}")
    general = load_data(f"ours:{bench_dir}#general")
    with_general, splits = training_records(f"ours:{bench_dir}")
    without, _ = training_records(f"ours:{bench_dir}", general_facts=False)
    assert len(with_general) == len(benchmark) + len(general) and len(without) == len(benchmark)
    assert {r.id for r in without} == {r.id for r in benchmark}
    assert set(splits) == {"forget", "retain"}
    # A model trained from scratch needs the general facts; the pretrained preset knows them.
    assert FinetuneConfig.for_preset("tiny").general_facts
    smollm2 = FinetuneConfig.for_preset("smollm2-135m")
    assert not smollm2.general_facts and smollm2.mixed_precision == "auto"
    assert FinetuneConfig.for_preset("smollm2-135m", general_facts=True).general_facts
