"""Fixtures of the evaluation tests: one torch thread, the bundled MiniLM embedder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="package")
def one_torch_thread():
    """Tiny models generate ~10x faster with one thread on a CPU shared by several processes."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="package")
def embedder():
    from unlearn.eval.backends.embeddings import Embedder

    return Embedder("minilm", device="cpu")
