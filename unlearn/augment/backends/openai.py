"""The `openai:URL` backend: any OpenAI-compatible /v1/chat/completions endpoint (DeepSeek, vLLM, ...).

The API key comes from an environment variable (OPENAI_API_KEY unless told otherwise) and only
ever travels in the Authorization header: it is not logged, cached, or written to the statistics,
and any error text is scrubbed of it. Connection errors, timeouts, 429 and 5xx are retried with
exponential backoff; after the last try the error names the URL and the cache keeps all replies
received so far, so a rerun resumes where the run stopped.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from unlearn.augment.backends.cache import ReplyCache
from unlearn.augment.backends.llm import LLMBackend
from unlearn.errors import UserError
from unlearn.io import hash_json

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MODEL = "deepseek-chat"
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class _Retryable(Exception):
    """A failure worth another try (network error, timeout, 429/5xx, a reply without text)."""


def chat_endpoint(url: str) -> str:
    """`http://host/v1` → `http://host/v1/chat/completions`; a full endpoint is kept as is."""
    if not url.startswith(("http://", "https://")):
        raise UserError(
            f"openai backend needs an http(s) URL, got {url!r} (e.g. openai:http://127.0.0.1:8000/v1)"
        )
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


class OpenAIBackend(LLMBackend):
    """Chat completions over HTTP with retries, backoff and a reply cache."""

    name = "openai"
    generator = "LLM (an OpenAI-compatible chat API; see meta.backend.model)"

    def __init__(
        self,
        url: str,
        cache_dir: str | Path,
        model: str = DEFAULT_MODEL,
        seed: int = 0,
        key_env: str = DEFAULT_KEY_ENV,
        temperature: float = 0.8,
        retries: int = 5,
        backoff_s: float = 1.0,
        timeout_s: float = 120.0,
        workers: int = 4,
    ) -> None:
        self.url = chat_endpoint(url)
        self.cache = ReplyCache(cache_dir)
        self.model = model
        self.seed = seed
        self.key_env = key_env
        self._key = os.environ.get(key_env) or None
        self.temperature = temperature
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.workers = workers
        self.requests = 0
        self.retried = 0
        self._count_lock = threading.Lock()
        if self._key is None:
            print(
                f"note: ${key_env} is not set; calling {self.url} without an API key",
                file=sys.stderr,
            )

    def _body(self, prompt: str, draw: int, max_tokens: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "max_tokens": max_tokens,
            "seed": int(hash_json([self.seed, draw])[:8], 16),
        }

    def _scrub(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _post(self, body: dict[str, Any]) -> str:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as err:
            try:
                detail = self._scrub(
                    err.read(300).decode(errors="replace").strip().replace("\n", " ")
                )
            except OSError:
                detail = ""
            if err.code in RETRYABLE_STATUS:
                raise _Retryable(f"HTTP {err.code} {detail}".strip()) from None
            hint = f"; check the key in ${self.key_env}" if err.code in (401, 403) else ""
            raise UserError(
                f"{self.url} refused the request: HTTP {err.code} {detail}{hint}".strip()
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
            raise _Retryable(self._scrub(str(getattr(err, "reason", err)))) from None
        try:
            content = json.loads(payload)["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            raise _Retryable("the reply is not a chat completion") from None
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise _Retryable("the reply's message content is not text")
        return content

    def _ask(self, body: dict[str, Any]) -> str:
        cached = self.cache.get(body)
        if cached is not None:
            return cached
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            with self._count_lock:
                self.requests += 1
                self.retried += attempt > 0
            try:
                reply = self._post(body)
            except _Retryable as err:
                last_error = str(err)
                continue
            self.cache.put(body, reply)
            return reply
        raise UserError(
            f"no reply from {self.url} after {self.retries + 1} tries (last error: {last_error}); "
            f"{len(self.cache)} replies so far are cached in {self.cache.folder}, rerun to resume"
        )

    def complete(self, prompts: list[str], draws: list[int], max_tokens: int) -> list[str | None]:
        bodies = [self._body(p, d, max_tokens) for p, d in zip(prompts, draws, strict=True)]
        pool = ThreadPoolExecutor(max_workers=max(1, self.workers))
        try:
            futures = [pool.submit(self._ask, body) for body in bodies]
            replies = [
                f.result()
                for f in tqdm(
                    futures,
                    desc="openai",
                    leave=False,
                    disable=not self.progress or len(bodies) < 2,
                )
            ]
        finally:  # after a failure, do not work through the queue: fail fast, the cache keeps the rest
            pool.shutdown(wait=True, cancel_futures=True)
        return [reply or None for reply in replies]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "model": self.model,
            "seed": self.seed,
            "llm_check": True,
            "api_key_env": self.key_env,
            "api_key_set": self._key is not None,
            "temperature": self.temperature,
            "retries": self.retries,
            "cache": str(self.cache.folder),
            "requests": self.requests,
            "retried": self.retried,
            "cache_hits": self.cache.hits,
        }
