"""Batched answer generation (greedy by default; the reference's sampling as an option)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.prompting import left_pad, prompt_ids


@dataclass(frozen=True)
class GenerationConfig:
    """Greedy decoding unless `sample`; sampling defaults are the ReLearn reference's."""

    max_new_tokens: int = 48
    sample: bool = False
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 5
    batch_size: int = 16
    seed: int = 0


@torch.no_grad()
def generate_answers(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    questions: list[str],
    config: GenerationConfig = GenerationConfig(),
    progress: bool = True,
    desc: str = "generate",
) -> list[str]:
    """Answer each question with the model's chat template; returns decoded answers."""
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    device = next(model.parameters()).device
    answers: list[str] = []
    torch.manual_seed(config.seed)
    batches = range(0, len(questions), config.batch_size)
    for start in tqdm(batches, desc=desc, disable=not progress, leave=False):
        chunk = questions[start : start + config.batch_size]
        batch = left_pad([prompt_ids(tokenizer, q) for q in chunk], pad_id)
        batch = {k: v.to(device) for k, v in batch.items()}
        sampling = (
            {
                "do_sample": True,
                "temperature": config.temperature,
                "top_p": config.top_p,
                "top_k": config.top_k,
            }
            if config.sample
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        output = model.generate(
            **batch,
            max_new_tokens=config.max_new_tokens,
            pad_token_id=pad_id,
            eos_token_id=tokenizer.eos_token_id,
            **sampling,
        )
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        answers += [t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
    return answers
