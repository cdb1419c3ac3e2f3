"""Weight quantization, the jailbreak wrapper, the relearning split, and the lineage defaults."""

from __future__ import annotations

import pytest
import torch

from unlearn.errors import UserError
from unlearn.eval.lineage import default_relearn_lr, default_scorer
from unlearn.eval.robustness import (
    AIM_PROMPT,
    jailbreak_questions,
    quantize_weights,
    round_weights,
    rtn_quantize,
    split_halves,
)
from unlearn.io import write_json
from unlearn.models import CARD_FILE, load_model, load_tokenizer


def test_rtn_quantize_by_hand():
    weight = torch.tensor([[1.0, 0.6, -0.2, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # 4 bits: 7 levels each side, scale = absmax / 7; 0.6 * 7 = 4.2 rounds to 4, -1.4 to -1
    expected = torch.tensor([[1.0, 4 / 7, -1 / 7, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert torch.allclose(rtn_quantize(weight, 4, None), expected)
    # groups of 2 inputs (the last one padded): each group has its own scale
    grouped = rtn_quantize(torch.tensor([[0.7, 0.1, 0.3]]), 4, 2)
    assert torch.allclose(grouped, torch.tensor([[0.7, 0.1, 0.3]]))
    eight = rtn_quantize(torch.tensor([[1.0, 0.3]]), 8, None)
    assert torch.allclose(eight, torch.tensor([[1.0, 38 / 127]]))  # 0.3 * 127 = 38.1 -> 38


def test_quantize_weights_changes_linears_but_not_the_head(tiny_base):
    model, _ = load_model(tiny_base)
    quantized = quantize_weights(model, 4)
    linear = model.model.layers[0].mlp.up_proj.weight
    q_linear = quantized.model.layers[0].mlp.up_proj.weight
    assert not torch.equal(linear, q_linear)
    assert (q_linear - linear).abs().max() <= linear.abs().max() / 7  # at most one step
    assert torch.equal(model.lm_head.weight, quantized.lm_head.weight)
    assert torch.equal(
        model.model.layers[0].mlp.up_proj.weight, linear
    )  # the original is untouched
    with pytest.raises(UserError, match="unsupported quantization 3-bit"):
        quantize_weights(model, 3)


def test_jailbreak_keeps_the_question_and_trims_only_when_needed(tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    questions = ["Where was Ada Byrne born?", "When was Bo Lund born?"]
    full, trimmed = jailbreak_questions(tokenizer, questions, AIM_PROMPT, 10_000)
    assert trimmed == 0 and full[0] == AIM_PROMPT.format(question=questions[0])
    short, trimmed = jailbreak_questions(tokenizer, questions, AIM_PROMPT, 120)
    assert trimmed == 2
    for text, question in zip(short, questions, strict=True):
        assert text.endswith(f'"{question}"') and len(text) < len(AIM_PROMPT)


def test_split_halves_is_seeded_disjoint_and_complete(world):
    records = world.split("forget10")
    trained, held_out = split_halves(records, seed=0)
    assert split_halves(records, seed=0) == (trained, held_out)
    assert {r.id for r in trained} | {r.id for r in held_out} == {r.id for r in records}
    assert not {r.id for r in trained} & {r.id for r in held_out}
    assert len(trained) == len(records) // 2
    with pytest.raises(UserError, match="at least 2"):
        split_halves(records[:1], seed=0)


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


def test_round_weights_rounds_in_place_of_casting(tiny_base):
    model, _ = load_model(tiny_base)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    rounded = round_weights(model, torch.float16)
    for name, param in rounded.named_parameters():
        assert param.dtype == torch.float32  # computed in fp32
        assert torch.equal(param, before[name].to(torch.float16).float())
    changed = sum(not torch.equal(p, before[n]) for n, p in rounded.named_parameters())
    assert changed > 0  # rounding moved some weights...
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters())  # ...of the copy
