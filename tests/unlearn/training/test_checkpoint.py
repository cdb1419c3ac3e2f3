"""Checkpoints: the merged folder, adapter, card and log a LoRA run writes, how an adapter names
its base, and the checks before a resume."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest
import torch

from unlearn.cli import main
from unlearn.errors import UserError
from unlearn.io import write_json
from unlearn.models.card import CARD_FILE, read_card
from unlearn.models.loading import load_model
from unlearn.training.checkpoint import LOG_FILE, RESUME_FILE, model_reference, resumable_card
from unlearn.training.config import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def test_an_adapter_names_a_preset_or_hub_id_as_given_and_a_folder_absolutely(
    tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ckpt").mkdir()
    assert model_reference("tiny") == "tiny"
    assert model_reference("org/model") == "org/model"
    assert model_reference("ckpt") == str(tmp_path / "ckpt")


def test_resume_is_refused_unless_the_folder_holds_this_runs_incomplete_state(tmp_path):
    config, hashes = TrainConfig(), {"forget": "f", "retain": None, "relearn": None}
    with pytest.raises(UserError, match="nothing to resume"):
        resumable_card(tmp_path, "ga", config, hashes, "tiny")
    card = {"method": "ga", "model": "tiny", "hyperparameters": asdict(config), "data_hash": hashes}
    write_json(tmp_path / CARD_FILE, {**card, "complete": True})
    with pytest.raises(UserError, match="is a finished run"):
        resumable_card(tmp_path, "ga", config, hashes, "tiny")
    write_json(tmp_path / CARD_FILE, {**card, "complete": False})
    with pytest.raises(UserError, match="has no resume state"):
        resumable_card(tmp_path, "ga", config, hashes, "tiny")
    (tmp_path / RESUME_FILE).parent.mkdir()
    (tmp_path / RESUME_FILE).write_bytes(b"")
    assert resumable_card(tmp_path, "ga", config, hashes, "tiny")["method"] == "ga"
    with pytest.raises(UserError, match="its method, hyperparameters differ"):
        resumable_card(tmp_path, "npo", TrainConfig(lr=1.0), hashes, "tiny")


@pytest.mark.integration
def test_lora_checkpoint_via_cli_has_adapter_card_and_log(
    vanilla_ckpt, small_specs, relearn_file, tmp_path
):
    out, rows = tmp_path / "relearn_klr", tmp_path / "rows.jsonl"
    rows.write_text("".join(relearn_file.read_text().splitlines(keepends=True)[:16]))
    code = main(
        [
            "train",
            "--method",
            "relearn_klr",
            "--model",
            str(vanilla_ckpt),
            "--forget",
            small_specs["forget"],
            "--retain",
            small_specs["retain"],
            "--relearn-data",
            str(rows),
            "--out",
            str(out),
            "--lora",
            "--epochs",
            "2",
            "--batch-size",
            "8",
        ]
    )
    assert code == 0
    card = read_card(out)
    adapter_config = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["base_model_name_or_path"] == str(vanilla_ckpt.resolve()) == card["model"]
    assert (
        card["base"] == "tiny"
        and card["hyperparameters"]["lora"]
        and card["hyperparameters"]["lora_r"] == 32
    )
    assert set(card["data_hash"]) == {"forget", "retain", "relearn"} and all(
        card["data_hash"].values()
    )
    assert card["seed"] == 0 and "torch" in card["versions"] and card["complete"]
    log = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [row["step"] for row in log] == list(range(1, card["total_steps"] + 1))
    assert [row["loss"] for row in log] == card["losses"]
    assert {"forget", "retain_kl"} <= set(log[0])
    assert not (out / RESUME_FILE).exists()  # a finished run keeps no optimizer state
    merged, tokenizer = load_model(out)
    from_adapter, _ = load_model(out / "adapter")
    ids = torch.tensor([tokenizer("Where was the author born?")["input_ids"]])
    assert torch.equal(merged(ids).logits, from_adapter(ids).logits)
    original, _ = load_model(vanilla_ckpt)
    assert not torch.equal(merged(ids).logits, original(ids).logits)
