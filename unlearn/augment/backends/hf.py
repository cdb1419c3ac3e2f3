"""The `hf:PATH_OR_PRESET` backend: a local chat model (e.g. the embedded SmolLM2-Instruct).

Prompts go through the model's chat template (unlearn.prompting) and are sampled in batches with
a seed per batch, so a run is reproducible on the same machine. A prompt longer than the model's
context keeps its end (where the question and the instruction sit); such truncations are counted.
"""

from __future__ import annotations

from typing import Any

import torch
from tqdm.auto import tqdm

from unlearn.augment.backends.llm import LLMBackend
from unlearn.io import hash_json
from unlearn.prompting import left_pad, prompt_ids


class HFBackend(LLMBackend):
    """Sample replies from a Hugging Face causal LM loaded with unlearn.models.loading.load_model."""

    name = "hf"
    generator = "LLM (a local chat model; see meta.backend.model)"

    def __init__(
        self,
        model: str,
        seed: int = 0,
        batch_size: int = 8,
        temperature: float = 0.8,
        top_p: float = 0.95,
        device: str | None = None,
    ) -> None:
        from unlearn.devices import check_on_device, resolve_device
        from unlearn.models.loading import load_model

        self.model_spec = model
        self.seed = seed
        self.batch_size = batch_size
        self.temperature = temperature
        self.top_p = top_p
        self.device = resolve_device(device)
        self.model, self.tokenizer = load_model(model, device=self.device)
        check_on_device(self.model, self.device, f"model {model}")
        self.context = int(getattr(self.model.config, "max_position_embeddings", 2048) or 2048)
        self.truncated_prompts = 0
        self.requests = 0

    @torch.no_grad()
    def complete(self, prompts: list[str], draws: list[int], max_tokens: int) -> list[str | None]:
        max_new = min(max_tokens, self.context // 2)
        pad_id = (
            self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.tokenizer.eos_token_id
        )
        replies: list[str | None] = []
        starts = range(0, len(prompts), self.batch_size)
        for start in tqdm(
            starts,
            desc=f"{self.name} generate",
            leave=False,
            disable=not self.progress or len(starts) < 2,
        ):
            chunk = prompts[start : start + self.batch_size]
            ids = [self._fit(prompt_ids(self.tokenizer, p), self.context - max_new) for p in chunk]
            batch = {k: v.to(self.device) for k, v in left_pad(ids, pad_id).items()}
            torch.manual_seed(
                int(hash_json([self.seed, draws[start : start + self.batch_size], chunk])[:8], 16)
            )
            output = self.model.generate(
                **batch,
                max_new_tokens=max_new,
                do_sample=True,
                temperature=self.temperature,
                top_p=self.top_p,
                top_k=None,
                pad_token_id=pad_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
            new_tokens = output[:, batch["input_ids"].shape[1] :]
            replies += [
                text.strip() or None
                for text in self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            ]
            self.requests += len(chunk)
        return replies

    def _fit(self, ids: list[int], limit: int) -> list[int]:
        if len(ids) <= limit:
            return ids
        self.truncated_prompts += 1
        return ids[-limit:]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model_spec,
            "seed": self.seed,
            "llm_check": True,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "batch_size": self.batch_size,
            "requests": self.requests,
            "truncated_prompts": self.truncated_prompts,
        }
