"""Shared fixtures: the benchmark, the tiny preset and the tiny vanilla checkpoint.

Models are cached under .cache/test in the repository (ignored by git), keyed by a hash of the
code that produces them, so a clean clone (CI) builds them once and a local rerun reuses them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("RELEARN_INTERP_CACHE", str(ROOT / ".cache" / "test"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")

VANILLA_SOURCES = (
    "unlearn/training/finetune.py",
    "unlearn/models/tiny.py",
    "unlearn/prompting.py",
    "unlearn/models/loading.py",
    "unlearn/data/benchmark.py",
    "unlearn/data/names.py",
    "unlearn/data/relations.py",
    "unlearn/data/general.py",
    "unlearn/data/general_science.py",
    "unlearn/recall/generation.py",
    "unlearn/training/run.py",
    "unlearn/training/config.py",
    "unlearn/training/loop.py",
    "unlearn/training/stop_rule.py",
    "unlearn/precision.py",
    "unlearn/methods/__init__.py",
    "unlearn/methods/batch.py",
    "unlearn/methods/losses.py",
    "unlearn/methods/relearn.py",
    "unlearn/methods/settings.py",
)
TEST_AUTHORS = 20


def source_hash(paths: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update((ROOT / path).read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="module")
def one_thread():
    """On two shared cores torch's second thread mostly waits: tiny-model steps and generation
    run several times faster on one (use with `pytestmark = pytest.mark.usefixtures(...)`)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def world():
    from unlearn.data.benchmark import build_world

    return build_world(TEST_AUTHORS, seed=0)


@pytest.fixture(scope="session")
def bench_dir(world, tmp_path_factory) -> Path:
    from unlearn.data.benchmark import write_world

    return write_world(world, tmp_path_factory.mktemp("bench") / "bench")


@pytest.fixture(scope="session")
def embedder():
    """The bundled MiniLM sentence encoder (ECS, the proxy backends, augment's quality)."""
    from unlearn.embeddings import Embedder

    return Embedder("minilm", device="cpu")


@pytest.fixture(scope="session")
def tiny_base() -> Path:
    from unlearn.models.loading import resolve_model

    return Path(resolve_model("tiny"))


@pytest.fixture(scope="session")
def vanilla_ckpt(bench_dir) -> Path:
    """The tiny model fine-tuned on the test benchmark (built once per code version)."""
    from unlearn.models.loading import cache_dir
    from unlearn.training.finetune import FinetuneConfig, finetune

    out = cache_dir() / f"vanilla-tiny-{source_hash(VANILLA_SOURCES)}"
    if not (out / "relearn.json").is_file():
        finetune(
            "tiny", f"ours:{bench_dir}", out, FinetuneConfig.for_preset("tiny"), overwrite=True
        )
    return out


@pytest.fixture(scope="session")
def tiny_run(vanilla_ckpt, tmp_path_factory) -> Path:
    """The main job on the tiny preset, starting from the cached vanilla checkpoint (run once)."""
    from relearn_interp.main.job import reproduce
    from relearn_interp.main.settings import ReproduceSettings

    work = tmp_path_factory.mktemp("run") / "tiny"
    settings = ReproduceSettings.for_preset("tiny", vanilla=str(vanilla_ckpt))
    reproduce(settings, work, work / "figures")
    return work
