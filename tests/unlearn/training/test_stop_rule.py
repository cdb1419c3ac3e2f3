"""The forget-target stop rule: stop at the first check at or below the target; record a target
out of reach and keep the best checked step."""

from __future__ import annotations

import pytest

from unlearn.cli import main
from unlearn.data.loaders import load_data
from unlearn.io import write_json
from unlearn.models.loading import load_model
from unlearn.recall.recall import fact_recall
from unlearn.training.config import TrainConfig
from unlearn.training.run import train

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def forget_spec(bench_dir, tmp_path_factory) -> str:
    """Eight forget records: a few cheap steps and checks."""
    folder = tmp_path_factory.mktemp("target")
    records = load_data(f"ours:{bench_dir}#forget10")[:8]
    write_json(folder / "forget.json", [r.to_json() for r in records])
    return f"ours:{folder / 'forget.json'}"


@pytest.mark.integration
def test_stops_at_the_first_check_at_or_below_the_target(vanilla_ckpt, forget_spec, tmp_path):
    config = TrainConfig.for_preset(
        vanilla_ckpt,
        "ga",
        lr=3e-3,
        batch_size=4,
        stop_at_recall=0.5,
        check_every=4,
        check_near_target=0.3,
        epochs=10,
    )
    card = train("ga", vanilla_ckpt, forget_spec, None, tmp_path / "ga", config)
    target, dose = card["forget_target"], card["dose"]
    trace = target["trace"]
    assert target["reached"] and trace[0]["step"] == 0 and trace[0]["recall"] >= 0.9
    assert all(check["recall"] > 0.5 for check in trace[:-1]), trace
    assert trace[-1]["recall"] <= 0.5
    # Every 4 steps, every step once a check came within 0.3 of the target.
    for before, after in zip(trace, trace[1:], strict=False):
        assert after["step"] - before["step"] == (1 if before["recall"] <= 0.8 else 4), trace
    assert dose["steps"] == card["step"] == trace[-1]["step"] < card["total_steps"]
    assert dose["examples_seen"] == 4 * dose["steps"]  # batch size 4, no accumulation
    assert card["complete"] and card["stopped"] == "forget target reached"
    # The kept checkpoint is the checked step: its recall, re-measured from disk, is the same.
    model, tokenizer = load_model(tmp_path / "ga")
    recall, _ = fact_recall(model, tokenizer, load_data(forget_spec), progress=False)
    assert recall == pytest.approx(dose["forget_recall"])


@pytest.mark.integration
def test_a_target_out_of_reach_keeps_the_best_checked_step(vanilla_ckpt, forget_spec, tmp_path):
    config = TrainConfig.for_preset(
        vanilla_ckpt, "ga", lr=1e-6, batch_size=4, stop_at_recall=0.0, check_every=1, max_steps=2
    )
    card = train("ga", vanilla_ckpt, forget_spec, None, tmp_path / "ga", config)
    target = card["forget_target"]
    assert not target["reached"] and "not reached" in target["kept"]
    assert [c["step"] for c in target["trace"]] == [0, 1, 2]
    best = min(target["trace"], key=lambda c: (c["recall"], c["step"]))
    assert card["dose"]["steps"] == best["step"] and target["kept_step"] == best["step"]
    assert card["stopped"] == "step cap; best checked step kept"


@pytest.mark.integration
def test_cli_reports_the_target_and_rejects_bad_values(vanilla_ckpt, forget_spec, tmp_path, capsys):
    code = main(
        [
            "train", "--method", "ga", "--model", str(vanilla_ckpt), "--forget", forget_spec,
            "--out", str(tmp_path / "bad"), "--stop-at-recall", "1.5",
        ]
    )  # fmt: skip
    assert code == 2 and "--stop-at-recall: must be in [0, 1)" in capsys.readouterr().err
    code = main(
        [
            "train", "--method", "ga", "--model", str(vanilla_ckpt), "--forget", forget_spec,
            "--out", str(tmp_path / "ok"), "--stop-at-recall", "0.9", "--check-every", "1",
            "--max-steps", "3", "--batch-size", "4",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "forget target recall <= 0.9" in out


def _scripted_recall(monkeypatch, values: list[float]) -> list[float]:
    """Make each recall check return the next scripted value (the rule, not the model, is tested)."""
    import unlearn.training.stop_rule

    script = iter(values)

    def recall(_model, _tokenizer, records, *_args, **_kwargs):
        value = next(script)
        flags = [
            {"recalled": value >= 0.5, "recalled_exact": value >= 0.5, "generated": ""}
            for _ in records
        ]
        return value, [{"id": r.id, **flag} for r, flag in zip(records, flags, strict=True)]

    monkeypatch.setattr(unlearn.training.stop_rule, "fact_recall", recall)
    return values


@pytest.mark.integration
def test_vanilla_stops_at_the_first_check_that_reaches_the_target(
    monkeypatch, forget_spec, tmp_path
):
    from unlearn.training.finetune import FinetuneConfig, finetune

    _scripted_recall(monkeypatch, [0.0, 0.25, 0.5, 1.0, 1.0, 1.0])
    config = FinetuneConfig(epochs=3, batch_size=4, lr=1e-3, recall_target=0.5, check_every=1)
    card = finetune("tiny", forget_spec, tmp_path / "v", config)
    target = card["recall_target"]
    assert target["reached"] and target["kept_step"] == 3 and target["recall"] == 0.5
    assert [check["step"] for check in target["trace"]] == [1, 2, 3]
    assert target["epochs_needed"] == 1.5  # 8 records in batches of 4: 2 steps an epoch
    assert len(card["losses"]) == 3
    assert card["recall"] == {"all": 1.0}  # read off the kept check, not generated again


@pytest.mark.integration
def test_vanilla_records_a_target_out_of_reach_and_keeps_its_best_step(
    monkeypatch, forget_spec, tmp_path
):
    from unlearn.training.finetune import FinetuneConfig, finetune

    _scripted_recall(monkeypatch, [0.1, 0.4, 0.3, 0.2])
    config = FinetuneConfig(epochs=2, batch_size=4, lr=1e-3, recall_target=1.0, check_every=1)
    card = finetune("tiny", forget_spec, tmp_path / "v", config)
    target = card["recall_target"]
    assert not target["reached"] and target["kept_step"] == 2 and target["recall"] == 0.4
    assert "not reached" in target["kept"] and len(target["trace"]) == 4
    assert card["recall"] == {"all": 0.0}


def test_the_vanilla_presets_memorise_every_fact_by_default():
    from unlearn.training.finetune import FinetuneConfig

    assert FinetuneConfig.for_preset("tiny").recall_target is None  # fixed 40 epochs: 100%
    assert FinetuneConfig.for_preset("smollm2-135m").recall_target == 1.0
    assert FinetuneConfig().recall_target is None  # the relearning attacks train every step
    with pytest.raises(Exception, match="recall_target must be in"):
        FinetuneConfig(recall_target=1.5).check()


def test_a_lora_check_generates_from_the_merged_weights(tiny_base, bench_dir):
    """A LoRA run's check decodes a plain model holding the merged weights (what the checkpoint
    saves), refilled at each check, with the wrapped model's greedy answers."""
    import torch

    from unlearn.recall.generation import GenerationConfig, generate_answers
    from unlearn.training.lora import merged_state_dict, wrap_lora
    from unlearn.training.stop_rule import ForgetTarget

    records = load_data(f"ours:{bench_dir}#forget10")[:8]
    model, tokenizer = load_model(tiny_base)
    peft = wrap_lora(model, TrainConfig(lora=True)).eval()
    target = ForgetTarget(records, tokenizer, 0.5, 1)
    generation = GenerationConfig(max_new_tokens=12, batch_size=64)
    questions = [r.question for r in records]
    torch.manual_seed(0)
    for _ in range(2):  # the second check refills the same plain model with the new weights
        with torch.no_grad():
            for name, param in peft.named_parameters():
                if "lora_B" in name:
                    param.normal_(0, 0.05)
        plain = target._generator(peft)
        assert plain is target._plain and not hasattr(plain, "get_base_model")
        merged = merged_state_dict(peft)
        assert plain.state_dict().keys() == merged.keys()
        assert all(torch.equal(plain.state_dict()[k], v) for k, v in merged.items())
        wrapped = generate_answers(peft, tokenizer, questions, generation, progress=False)
        assert generate_answers(plain, tokenizer, questions, generation, False) == wrapped
