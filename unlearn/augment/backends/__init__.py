"""Augmentation backends by spec: `template`, `hf:PATH_OR_PRESET`, `openai:URL`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unlearn.augment.backends.base import QUESTION_KINDS, AnswerJob, Backend, CheckJob, QuestionJob
from unlearn.errors import UserError

__all__ = [
    "QUESTION_KINDS",
    "AnswerJob",
    "Backend",
    "BackendOptions",
    "CheckJob",
    "QuestionJob",
    "make_backend",
]


@dataclass(frozen=True)
class BackendOptions:
    """Settings of the LLM backends (the template backend needs none)."""

    llm_model: str = "deepseek-chat"
    api_key_env: str = "OPENAI_API_KEY"
    cache_dir: str | Path | None = None
    retries: int = 5
    backoff_s: float = 1.0
    timeout_s: float = 120.0
    workers: int = 4
    temperature: float = 0.8
    device: str | None = None


def make_backend(spec: str, seed: int = 0, options: BackendOptions = BackendOptions()) -> Backend:
    """Build a backend from its spec; an unknown spec is a UserError listing the valid forms."""
    kind, _, target = spec.partition(":")
    if kind == "template" and not target:
        from unlearn.augment.backends.template import TemplateBackend

        return TemplateBackend(seed)
    if kind == "hf" and target:
        from unlearn.augment.backends.hf import HFBackend

        return HFBackend(target, seed=seed, temperature=options.temperature, device=options.device)
    if kind == "openai" and target:
        from unlearn.augment.backends.openai import OpenAIBackend
        from unlearn.models.loading import cache_dir

        return OpenAIBackend(
            target,
            cache_dir=options.cache_dir or cache_dir() / "augment-replies",
            model=options.llm_model,
            seed=seed,
            key_env=options.api_key_env,
            temperature=options.temperature,
            retries=options.retries,
            backoff_s=options.backoff_s,
            timeout_s=options.timeout_s,
            workers=options.workers,
        )
    raise UserError(
        f"unknown backend {spec!r}; use template, hf:PATH_OR_PRESET (e.g. hf:smollm2-135m) "
        "or openai:URL (e.g. openai:http://127.0.0.1:8000/v1)"
    )
