"""The tiny preset: a small multi-head Llama, built deterministically from its seed."""

from __future__ import annotations

import pytest
import torch

from unlearn.models.loading import load_model


@pytest.mark.integration
def test_tiny_preset_is_a_small_multi_head_llama(tiny_base):
    model, tokenizer = load_model(tiny_base)
    n_params = sum(p.numel() for p in model.parameters())
    assert 2e6 < n_params < 10e6
    assert model.config.num_key_value_heads == model.config.num_attention_heads
    assert tokenizer.chat_template and tokenizer.eos_token == "<|end|>"


@pytest.mark.integration
def test_tiny_preset_is_deterministic(tmp_path, monkeypatch):
    from unlearn.models.loading import prepare_tiny
    from unlearn.models.tiny import TinyConfig

    monkeypatch.setenv("RELEARN_INTERP_CACHE", str(tmp_path))
    first = prepare_tiny(TinyConfig(tokenizer_authors=20))
    weights = load_model(first)[0].state_dict()
    (tmp_path / "again").mkdir()
    monkeypatch.setenv("RELEARN_INTERP_CACHE", str(tmp_path / "again"))
    second = load_model(prepare_tiny(TinyConfig(tokenizer_authors=20)))[0].state_dict()
    assert all(torch.equal(weights[k], second[k]) for k in weights)
