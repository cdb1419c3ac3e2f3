"""Batched answer generation: greedy by default, or the ReLearn reference's decoding.

The reference (`evals/generate.py`, vLLM path) samples at temperature 0.7, top_p 0.9, top_k 5,
up to 128 new tokens, and asks again for every answer that came back empty, three attempts in
all; `DECODINGS["reference"]` does the same here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.errors import UserError
from unlearn.prompting import left_pad, prompt_ids


@dataclass(frozen=True)
class GenerationConfig:
    """Greedy decoding unless `sample`; sampling defaults are the ReLearn reference's.

    `empty_retries`: how many more times an empty answer is sampled again (greedy decoding would
    only repeat itself, so it applies to sampling alone).
    """

    max_new_tokens: int = 48
    sample: bool = False
    temperature: float = 0.7
    top_p: float = 0.9
    top_k: int = 5
    empty_retries: int = 0
    batch_size: int = 16
    seed: int = 0


DECODINGS = {
    "greedy": GenerationConfig(),
    "reference": GenerationConfig(max_new_tokens=128, sample=True, empty_retries=2),
}


def decoding(name: str, **overrides: int) -> GenerationConfig:
    """The named decoding preset with some fields replaced (e.g. batch_size, seed)."""
    if name not in DECODINGS:
        raise UserError(f"unknown decoding {name!r}; valid: {', '.join(DECODINGS)}")
    return replace(DECODINGS[name], **overrides)


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
    torch.manual_seed(config.seed)
    answers = _generate(model, tokenizer, questions, config, progress, desc)
    for _ in range(config.empty_retries if config.sample else 0):
        empty = [i for i, answer in enumerate(answers) if not answer]
        if not empty:
            break
        again = _generate(model, tokenizer, [questions[i] for i in empty], config, False, desc)
        for index, answer in zip(empty, again, strict=True):
            answers[index] = answer
    return answers


def _generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    questions: list[str],
    config: GenerationConfig,
    progress: bool,
    desc: str,
) -> list[str]:
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    device = next(model.parameters()).device
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
    answers: list[str] = []
    batches = range(0, len(questions), config.batch_size)
    for start in tqdm(batches, desc=desc, disable=not progress, leave=False):
        chunk = questions[start : start + config.batch_size]
        batch = left_pad([prompt_ids(tokenizer, q) for q in chunk], pad_id)
        batch = {k: v.to(device) for k, v in batch.items()}
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
