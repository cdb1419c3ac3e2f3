"""Decoding presets: the reference's sampling settings and its re-sampling of empty answers."""

from __future__ import annotations

import pytest
import torch

from unlearn.errors import UserError
from unlearn.recall.generation import decoding, generate_answers

EOS, WORD = 0, 7


class ScriptedTokenizer:
    """No chat template; every prompt is three tokens; token WORD decodes to "word", EOS to ""."""

    chat_template = None
    pad_token_id = EOS
    eos_token_id = EOS

    def __call__(self, text: str, add_special_tokens: bool = True) -> dict[str, list[int]]:
        return {"input_ids": [1, 2, 3]}

    def batch_decode(self, rows: torch.Tensor, skip_special_tokens: bool = True) -> list[str]:
        return [" ".join("word" for t in row.tolist() if t == WORD) for row in rows]


class ScriptedModel(torch.nn.Module):
    """Call k answers every row with the token `script[k]` (EOS: an empty answer)."""

    def __init__(self, script: list[int]) -> None:
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # generate_answers reads the device
        self.script = script
        self.calls: list[dict] = []

    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs):
        self.calls.append({"rows": input_ids.shape[0], **kwargs})
        token = self.script[len(self.calls) - 1]
        return torch.cat([input_ids, torch.full((input_ids.shape[0], 1), token)], dim=1)


def test_reference_decoding_is_the_reference_sampling():
    config = decoding("reference", batch_size=4)
    assert (config.sample, config.temperature, config.top_p, config.top_k) == (True, 0.7, 0.9, 5)
    assert (config.max_new_tokens, config.empty_retries, config.batch_size) == (128, 2, 4)
    assert not decoding("greedy").sample
    with pytest.raises(UserError, match="unknown decoding 'beam'"):
        decoding("beam")


def test_reference_decoding_samples_empty_answers_again():
    model = ScriptedModel([EOS, WORD])
    answers = generate_answers(
        model, ScriptedTokenizer(), ["q1", "q2", "q3"], decoding("reference"), progress=False
    )
    assert answers == ["word"] * 3
    assert [c["rows"] for c in model.calls] == [3, 3]
    first = model.calls[0]
    assert (first["do_sample"], first["temperature"], first["top_p"], first["top_k"]) == (
        True,
        0.7,
        0.9,
        5,
    )
    assert first["max_new_tokens"] == 128


def test_an_answer_empty_three_times_stays_empty_and_greedy_never_retries():
    model = ScriptedModel([EOS, EOS, EOS, WORD])
    answers = generate_answers(
        model, ScriptedTokenizer(), ["q1"], decoding("reference"), progress=False
    )
    assert answers == [""] and len(model.calls) == 3  # three attempts in all, as the reference
    greedy = ScriptedModel([EOS, WORD])
    assert generate_answers(greedy, ScriptedTokenizer(), ["q1"], progress=False) == [""]
    assert len(greedy.calls) == 1 and greedy.calls[0]["do_sample"] is False
