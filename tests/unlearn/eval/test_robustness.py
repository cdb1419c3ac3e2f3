"""Weight quantization, the jailbreak wrapper and the precision change of the robustness checks."""

from __future__ import annotations

import pytest
import torch

from unlearn.errors import UserError
from unlearn.eval.robustness import (
    AIM_PROMPT,
    jailbreak_questions,
    quantize_weights,
    round_weights,
    rtn_quantize,
)
from unlearn.models.loading import load_model, load_tokenizer


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


@pytest.mark.integration
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


@pytest.mark.integration
def test_jailbreak_keeps_the_question_and_trims_only_when_needed(tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    questions = ["Where was Ada Byrne born?", "When was Bo Lund born?"]
    full, trimmed = jailbreak_questions(tokenizer, questions, AIM_PROMPT, 10_000)
    assert trimmed == 0 and full[0] == AIM_PROMPT.format(question=questions[0])
    short, trimmed = jailbreak_questions(tokenizer, questions, AIM_PROMPT, 120)
    assert trimmed == 2
    for text, question in zip(short, questions, strict=True):
        assert text.endswith(f'"{question}"') and len(text) < len(AIM_PROMPT)


@pytest.mark.integration
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
