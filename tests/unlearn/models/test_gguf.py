"""The embedded SmolLM2: the GGUF conversion matches the GGUF-loaded model, chat template
included."""

from __future__ import annotations

import pytest
import torch

from unlearn.models.loading import load_model


@pytest.mark.integration
def test_smollm2_conversion_matches_the_gguf_loaded_model():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from unlearn.models.gguf import smollm2_gguf_path
    from unlearn.models.loading import prepare_smollm2

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
