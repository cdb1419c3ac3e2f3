"""How a question and its answer become token ids, the same way in training, evaluation and analysis.

With a chat template the question is the user turn and the answer the assistant turn (closed by
EOS); without one, "Question: ...\\nAnswer:" is used. Prompt and answer are tokenized separately
and concatenated, so the answer's tokens are the same whatever precedes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from jaxtyping import Int
from torch import Tensor
from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100


def has_chat_template(tokenizer: PreTrainedTokenizerBase) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def prompt_ids(tokenizer: PreTrainedTokenizerBase, question: str) -> list[int]:
    """Token ids of the prompt that asks `question`, ending where the answer starts."""
    if has_chat_template(tokenizer):
        encoded = tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=True
        )
        return list(encoded["input_ids"] if hasattr(encoded, "keys") else encoded)
    return list(tokenizer(f"Question: {question}\nAnswer:", add_special_tokens=True)["input_ids"])


def answer_ids(tokenizer: PreTrainedTokenizerBase, answer: str, eos: bool = True) -> list[int]:
    """Token ids of an answer (with a leading space when there is no chat template), plus EOS."""
    text = answer if has_chat_template(tokenizer) else " " + answer
    ids = list(tokenizer(text, add_special_tokens=False)["input_ids"])
    if eos and tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return ids


@dataclass
class Example:
    """One tokenized training example: loss only on the answer tokens."""

    input_ids: list[int]
    labels: list[int]


def encode_example(
    tokenizer: PreTrainedTokenizerBase, question: str, answer: str, max_length: int = 256
) -> Example:
    prompt = prompt_ids(tokenizer, question)
    target = answer_ids(tokenizer, answer)
    input_ids = (prompt + target)[:max_length]
    labels = ([IGNORE_INDEX] * len(prompt) + target)[:max_length]
    return Example(input_ids, labels)


def collate(examples: list[Example], pad_id: int) -> dict[str, Int[Tensor, "batch pos"]]:
    """Right-pad a batch; padded positions are masked out of attention and loss."""
    length = max(len(e.input_ids) for e in examples)
    input_ids = torch.full((len(examples), length), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), length), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        input_ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def left_pad(sequences: list[list[int]], pad_id: int) -> dict[str, Int[Tensor, "batch pos"]]:
    """Left-pad prompts for batched generation."""
    length = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
    for row, seq in enumerate(sequences):
        input_ids[row, length - len(seq) :] = torch.tensor(seq)
        attention_mask[row, length - len(seq) :] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask}
