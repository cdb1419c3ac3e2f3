"""The card chain: an adapter's base, the chain of models the cards name, the preset a model
descends from, and the defaults read off the chain (LS scorer, relearning rate)."""

from __future__ import annotations

import json

import pytest

from unlearn.errors import UserError
from unlearn.eval.scoring import default_scorer
from unlearn.io import write_json
from unlearn.models.card import ADAPTER_FILE, CARD_FILE, lineage, preset_of, read_card
from unlearn.training.attack import default_relearn_lr


def test_the_chain_follows_each_cards_first_named_model_back_to_the_preset(tmp_path):
    vanilla, unlearned = tmp_path / "vanilla", tmp_path / "ga"
    write_json(vanilla / CARD_FILE, {"method": "vanilla", "base": "tiny"})
    write_json(unlearned / CARD_FILE, {"method": "ga", "model": str(vanilla), "base": "tiny"})
    chain = lineage(unlearned)
    assert [model for model, _ in chain] == [str(unlearned), str(vanilla), "tiny"]
    assert [card.get("method") for _, card in chain] == ["ga", "vanilla", None]
    assert lineage("org/hub-model") == [("org/hub-model", {})]
    write_json(vanilla / CARD_FILE, {"method": "vanilla", "model": str(unlearned)})
    assert len(lineage(unlearned)) == 2  # a cycle ends the chain


def test_the_preset_is_found_through_bases_and_adapter_configs(tmp_path):
    vanilla, adapter = tmp_path / "vanilla", tmp_path / "adapter"
    write_json(vanilla / CARD_FILE, {"method": "vanilla", "base": "smollm2-135m"})
    (adapter).mkdir()
    (adapter / ADAPTER_FILE).write_text(json.dumps({"base_model_name_or_path": str(vanilla)}))
    assert preset_of("tiny") == "tiny"
    assert preset_of(vanilla) == preset_of(adapter) == "smollm2-135m"
    assert preset_of(tmp_path / "missing") is None and preset_of("org/hub-model") is None
    write_json(vanilla / CARD_FILE, {"method": "vanilla", "base": "org/hub-model"})
    assert preset_of(vanilla) is None


def test_a_card_that_is_not_an_object_is_refused(tmp_path):
    assert read_card(tmp_path) == {}
    (tmp_path / CARD_FILE).write_text("[1, 2]")
    with pytest.raises(UserError, match="is not a JSON object"):
        read_card(tmp_path)


def test_adapter_with_missing_base_is_refused(tmp_path):
    from unlearn.models.card import adapter_base

    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "/no/such/base"}')
    with pytest.raises(UserError, match="base model"):
        adapter_base(tmp_path)


def test_lineage_scores_ppl_with_the_base_before_fine_tuning(tmp_path):
    base, tuned, ga = tmp_path / "base", tmp_path / "tuned", tmp_path / "tuned-ga"
    write_json(base / CARD_FILE, {"method": "base"})
    write_json(tuned / CARD_FILE, {"method": "vanilla", "base": str(base)})
    write_json(ga / CARD_FILE, {"method": "ga", "model": str(tuned)})
    assert default_scorer(ga) == (
        str(base),
        "the base model before fine-tuning, as in the reference",
    )
    assert default_scorer(tuned)[0] == str(base)
    write_json(tuned / CARD_FILE, {"method": "vanilla", "base": "smollm2-135m"})
    assert default_scorer(ga)[0] == "smollm2-135m"  # a pretrained preset, resolved when loaded


def test_lineage_finds_the_vanilla_scorer_and_the_preset_rate(tmp_path):
    vanilla, unlearned, orphan = tmp_path / "vanilla", tmp_path / "ga", tmp_path / "orphan"
    write_json(vanilla / CARD_FILE, {"method": "vanilla", "base": "tiny"})
    write_json(unlearned / CARD_FILE, {"method": "ga", "model": str(vanilla)})
    write_json(orphan / CARD_FILE, {"method": "ga", "model": str(tmp_path / "gone")})
    scorer, how = default_scorer(unlearned)  # tiny is randomly initialised: vanilla scores
    assert scorer == str(vanilla) and "randomly initialised" in how
    assert default_scorer(vanilla)[1].startswith("the checkpoint itself (a vanilla model)")
    relative = tmp_path / "npo"
    write_json(
        relative / CARD_FILE, {"method": "npo", "model": "../vanilla"}
    )  # relative to the card
    assert default_scorer(relative)[0] == str(relative / "../vanilla")
    scorer, how = default_scorer(orphan)
    assert scorer == str(orphan) and "--scorer" in how
    assert default_relearn_lr(unlearned) == pytest.approx(3e-4)  # a tenth of the tiny preset's rate
