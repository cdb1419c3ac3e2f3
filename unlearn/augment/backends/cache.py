"""A disk cache of LLM replies keyed by the request body's hash: reruns are free and resumable.

One small JSON file per request (written atomically), so concurrent workers never clash and an
interrupted run keeps every reply it already received. The key is the request body (model,
messages, sampling settings, seed), never a header, so no secret can reach the cache.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from unlearn.io import write_json


def request_key(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class ReplyCache:
    """Replies stored under `folder/<key[:2]>/<key>.json` as {"request": body, "reply": text}."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.hits = 0
        self.stored = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, body: dict[str, Any]) -> str | None:
        path = self._path(request_key(body))
        if not path.is_file():
            return None
        try:
            reply = json.loads(path.read_text())["reply"]
        except (json.JSONDecodeError, KeyError, TypeError):
            return None  # a damaged entry is simply asked again
        self.hits += 1
        return reply

    def put(self, body: dict[str, Any], reply: str) -> None:
        write_json(self._path(request_key(body)), {"request": body, "reply": reply})
        self.stored += 1

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*/*.json")) if self.folder.is_dir() else 0
