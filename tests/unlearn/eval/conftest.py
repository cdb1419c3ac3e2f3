"""Fixtures of the evaluation tests: one torch thread, the bundled MiniLM embedder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def single_thread(one_thread):
    """Every evaluation test on one torch thread: tiny models generate several times faster."""


@pytest.fixture(scope="package")
def embedder():
    from unlearn.eval.backends.embeddings import Embedder

    return Embedder("minilm", device="cpu")
