"""LLM chat backends shared by the llm entity extractor and the llm judge.

`openai:URL[#MODEL]` reuses the augment pipeline's OpenAI-compatible client
(unlearn.augment.backends.openai: key from an environment variable, never logged; retries; a
reply cache, so a rerun of an evaluation costs nothing), at temperature 0. `hf:PATH` runs a local
causal LM greedily with its chat template.
"""

from __future__ import annotations

from typing import Protocol

from unlearn.errors import UserError

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_LLM = "deepseek-chat"


class ChatBackend(Protocol):
    name: str

    def complete(self, prompts: list[str], max_tokens: int = 256) -> list[str | None]:
        """One reply per prompt; None where no reply text came back."""
        ...


class OpenAIChat:
    """Deterministic (temperature 0) chat completions through the augment pipeline's client."""

    def __init__(self, url: str, model: str, key_env: str = DEFAULT_KEY_ENV) -> None:
        from unlearn.augment.backends.openai import OpenAIBackend
        from unlearn.models.loading import cache_dir

        self.client = OpenAIBackend(
            url,
            cache_dir=cache_dir() / "eval-replies",
            model=model,
            seed=0,
            key_env=key_env,
            temperature=0.0,
        )
        self.name = f"openai-compatible {model} at {self.client.url} (key from ${key_env})"

    def complete(self, prompts: list[str], max_tokens: int = 256) -> list[str | None]:
        return self.client.complete(prompts, [0] * len(prompts), max_tokens)


class HFChat:
    """A local causal LM answering each prompt greedily with its chat template."""

    def __init__(self, path: str, device: str | None = None) -> None:
        from unlearn.models.loading import load_model

        self.model, self.tokenizer = load_model(path, device=device)
        self.name = f"local model {path}"

    def complete(self, prompts: list[str], max_tokens: int = 256) -> list[str | None]:
        from unlearn.recall.generation import GenerationConfig, generate_answers

        config = GenerationConfig(max_new_tokens=max_tokens)
        return list(
            generate_answers(
                self.model, self.tokenizer, prompts, config, progress=False, desc="llm"
            )
        )


def chat_backend(
    spec: str, key_env: str = DEFAULT_KEY_ENV, device: str | None = None
) -> ChatBackend:
    """`openai:URL[#MODEL]` (model default deepseek-chat) or `hf:PATH` as a chat backend."""
    kind, _, rest = spec.partition(":")
    if kind == "openai" and rest:
        url, _, model = rest.partition("#")
        return OpenAIChat(url, model or DEFAULT_LLM, key_env)
    if kind == "hf" and rest:
        return HFChat(rest, device)
    raise UserError(f"LLM backend {spec!r} must be openai:URL[#MODEL] or hf:PATH")
