"""Presets, the GGUF conversion and checkpoint resolution."""

from __future__ import annotations

import pytest
import torch

from unlearn.errors import UserError
from unlearn.models import load_model, resolve_model


def test_smollm2_conversion_matches_the_gguf_loaded_model():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from unlearn.models import prepare_smollm2, smollm2_gguf_path

    folder = prepare_smollm2()
    assert prepare_smollm2() == folder  # idempotent: second call reuses the folder
    converted, tokenizer = load_model("smollm2-135m")
    assert converted.config.num_hidden_layers == 30 and converted.config.hidden_size == 576
    assert converted.config.num_attention_heads == 9 and converted.config.num_key_value_heads == 3
    assert not hasattr(converted.config, "quantization_config")
    gguf = smollm2_gguf_path()
    reference = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    ).eval()
    reference_tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    text = "The capital of France is"
    ids = tokenizer(text, return_tensors="pt").input_ids
    assert ids.tolist() == reference_tokenizer(text, return_tensors="pt").input_ids.tolist()
    with torch.no_grad():
        difference = (converted(ids).logits - reference(ids).logits).abs().max().item()
    assert difference <= 1e-4
    # The preset's chat template drops SmolLM2's default system turn (a third of every example).
    from unlearn.prompting import prompt_ids

    prompt = tokenizer.decode(prompt_ids(tokenizer, "Who wrote it?"))
    assert prompt == "<|im_start|>user\nWho wrote it?<|im_end|>\n<|im_start|>assistant\n"
    assert "You are a helpful AI assistant" in reference_tokenizer.apply_chat_template(
        [{"role": "user", "content": "Who wrote it?"}], tokenize=False
    )


def test_tiny_preset_is_a_small_multi_head_llama(tiny_base):
    model, tokenizer = load_model(tiny_base)
    n_params = sum(p.numel() for p in model.parameters())
    assert 2e6 < n_params < 10e6
    assert model.config.num_key_value_heads == model.config.num_attention_heads
    assert tokenizer.chat_template and tokenizer.eos_token == "<|end|>"


def test_tiny_preset_is_deterministic(tmp_path, monkeypatch):
    from unlearn.models import TinyConfig, prepare_tiny

    monkeypatch.setenv("RELEARN_INTERP_CACHE", str(tmp_path))
    first = prepare_tiny(TinyConfig(tokenizer_authors=20))
    weights = load_model(first)[0].state_dict()
    (tmp_path / "again").mkdir()
    monkeypatch.setenv("RELEARN_INTERP_CACHE", str(tmp_path / "again"))
    second = load_model(prepare_tiny(TinyConfig(tokenizer_authors=20)))[0].state_dict()
    assert all(torch.equal(weights[k], second[k]) for k in weights)


def test_unknown_model_is_refused_with_the_presets():
    with pytest.raises(UserError, match="tiny, smollm2-135m"):
        resolve_model("tinyy")


def test_folder_without_weights_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="holds no weights"):
        resolve_model(tmp_path)


def test_adapter_with_missing_base_is_refused(tmp_path):
    from unlearn.models import adapter_base

    (tmp_path / "adapter_config.json").write_text('{"base_model_name_or_path": "/no/such/base"}')
    with pytest.raises(UserError, match="base model"):
        adapter_base(tmp_path)
