"""Question + answer → tokens: the prompt and answer tokenized apart (answer tokens the same after
any question), loss labels on the answer only, and the padding of batches."""

from __future__ import annotations

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from unlearn.prompting import (
    IGNORE_INDEX,
    answer_ids,
    collate,
    encode_example,
    left_pad,
    prompt_ids,
)

WORDS = "<pad> <eos> <user> <bot> Question: Answer: where was she born ? in Lyon Paris".split()
CHAT = (
    "{% for m in messages %}<user> {{ m['content'] }}{% endfor %}"
    "{% if add_generation_prompt %} <bot>{% endif %}"
)


def word_tokenizer(chat: bool) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over WORDS, with or without a chat template."""
    core = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<pad>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="<eos>")
    if chat:
        tokenizer.chat_template = CHAT
    return tokenizer


def ids(*words: str) -> list[int]:
    return [WORDS.index(w) for w in words]


@pytest.mark.parametrize("chat", [False, True])
def test_the_answer_is_labelled_after_the_prompt_and_closed_by_eos(chat):
    tokenizer = word_tokenizer(chat)
    prompt = prompt_ids(tokenizer, "where was she born ?")
    if chat:
        assert prompt == ids("<user>", "where", "was", "she", "born", "?", "<bot>")
    else:
        assert prompt == ids("Question:", "where", "was", "she", "born", "?", "Answer:")
    assert answer_ids(tokenizer, "in Lyon") == ids("in", "Lyon", "<eos>")
    assert answer_ids(tokenizer, "in Lyon", eos=False) == ids("in", "Lyon")
    example = encode_example(tokenizer, "where was she born ?", "in Lyon")
    assert example.input_ids == prompt + ids("in", "Lyon", "<eos>")
    assert example.labels == [IGNORE_INDEX] * len(prompt) + ids("in", "Lyon", "<eos>")
    short = encode_example(tokenizer, "where was she born ?", "in Lyon", max_length=8)
    assert short.input_ids == example.input_ids[:8] and short.labels == example.labels[:8]


def test_batches_pad_right_for_training_and_left_for_generation():
    tokenizer = word_tokenizer(chat=False)
    long = encode_example(tokenizer, "where was she born ?", "in Paris")
    short = encode_example(tokenizer, "born ?", "Lyon")
    batch = collate([long, short], pad_id=0)
    width = len(long.input_ids)
    assert batch["input_ids"].shape == (2, width)
    assert batch["attention_mask"][1].tolist() == [1] * len(short.input_ids) + [0] * (
        width - len(short.input_ids)
    )
    assert (batch["labels"][1, len(short.input_ids) :] == IGNORE_INDEX).all()
    left = left_pad([[5, 6, 7], [8]], pad_id=0)
    assert torch.equal(left["input_ids"], torch.tensor([[5, 6, 7], [0, 0, 8]]))
    assert torch.equal(left["attention_mask"], torch.tensor([[1, 1, 1], [0, 0, 1]]))
