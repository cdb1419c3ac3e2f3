"""Checkpoints the command tests share."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="module")
def other_tokenizer_ckpt(tiny_base, tmp_path_factory):
    """The tiny model beside a tokenizer with one extra token."""
    from unlearn.models.loading import load_tokenizer

    folder = tmp_path_factory.mktemp("other") / "other-tok"
    folder.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_base / name, folder / name)
    tokenizer = load_tokenizer(tiny_base)
    tokenizer.add_tokens(["<|extra|>"])
    tokenizer.save_pretrained(folder)
    return folder
