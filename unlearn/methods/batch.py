"""A tokenized micro-batch as the methods see it, with the normalisers its losses divide by."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from jaxtyping import Float, Int
from torch import Tensor

from unlearn.prompting import Example, collate


@dataclass
class TokenBatch:
    """This process's slice of a micro-batch (right-padded, labels -100 off the answer).

    `n_tokens` and `n_sequences` are this process's share of the whole micro-batch's answer
    tokens and sequences (global count / number of processes), so per-process losses average
    to the global token- or sequence-mean. `indices` name each row's example in its dataset
    (forget items or retain items) so that fixed reference outputs can be cached per example;
    None: nothing is cached.
    """

    input_ids: Int[Tensor, "batch pos"]
    attention_mask: Int[Tensor, "batch pos"]
    labels: Int[Tensor, "batch pos"]
    n_tokens: float
    n_sequences: float
    indices: tuple[int, ...] | None = None

    @classmethod
    def build(
        cls,
        examples: list[Example],
        pad_id: int,
        n_tokens: float,
        n_sequences: float,
        device: torch.device | str = "cpu",
        indices: Sequence[int] | None = None,
    ) -> TokenBatch:
        tensors = {k: v.to(device) for k, v in collate(examples, pad_id).items()}
        rows = tuple(indices) if indices is not None else None
        return cls(**tensors, n_tokens=n_tokens, n_sequences=n_sequences, indices=rows)

    def model_inputs(self) -> dict[str, Tensor]:
        return {"input_ids": self.input_ids, "attention_mask": self.attention_mask}


Forward = Callable[[TokenBatch], Float[Tensor, "batch pos vocab"]]
"""A model call: the trainable model, or the frozen reference (under no_grad)."""
