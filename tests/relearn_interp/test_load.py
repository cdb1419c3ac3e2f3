"""The TransformerLens loader: logits equal the Hugging Face model's for every kind of checkpoint."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from relearn_interp.load import check_context, check_layer, load, require_same_vocab
from unlearn.errors import UserError
from unlearn.models.loading import load_model, load_tokenizer

pytestmark = pytest.mark.integration

TOKENS = torch.tensor([[1, 40, 41, 300, 301, 302, 900, 17], [1, 7, 8, 9, 10, 11, 12, 13]])


def max_logit_difference(ckpt) -> float:
    """Largest |bridge logit - HF logit| of the same checkpoint in fp32.

    The reference uses eager attention like the bridge: SDPA alone differs from eager by ~2e-4
    on SmolLM2's logits (magnitude ~35), a kernel difference rather than a loader one.
    """
    reference, _ = load_model(ckpt, dtype=torch.float32, attn_implementation="eager")
    bridge = load(ckpt, dtype=torch.float32, device="cpu")
    with torch.no_grad():
        expected = reference(TOKENS).logits
        got = bridge(TOKENS)
    assert got.shape == expected.shape
    return (got - expected).abs().max().item()


@pytest.fixture(scope="module")
def adapter_dir(tiny_base, tmp_path_factory):
    """A LoRA adapter on the tiny preset with non-zero weights, so merging it changes the logits."""
    from peft import LoraConfig, get_peft_model

    model, _ = load_model(tiny_base)
    torch.manual_seed(0)
    config = LoraConfig(
        r=4,
        lora_alpha=16,
        target_modules=["q_proj", "v_proj", "down_proj"],
        init_lora_weights=False,
    )
    out = tmp_path_factory.mktemp("adapter") / "lora"
    get_peft_model(model, config).save_pretrained(out)
    return out


def test_merged_folder_matches_hf(vanilla_ckpt):
    assert max_logit_difference(vanilla_ckpt) <= 1e-4


def test_preset_matches_hf():
    assert max_logit_difference("tiny") <= 1e-4


def test_adapter_folder_is_merged_and_matches_hf(adapter_dir, tiny_base):
    assert max_logit_difference(adapter_dir) <= 1e-4
    adapted = load(adapter_dir, device="cpu")
    plain = load(tiny_base, device="cpu")
    with torch.no_grad():
        assert (
            adapted(TOKENS) - plain(TOKENS)
        ).abs().max().item() > 1e-2  # the adapter was applied
    assert not any(p.requires_grad for p in adapted.parameters())
    assert adapted.tokenizer.eos_token == "<|end|>"  # loaded from disk through the base


def test_adapter_without_its_base_is_refused(adapter_dir, tmp_path):
    orphan = tmp_path / "orphan"
    shutil.copytree(adapter_dir, orphan)
    config = json.loads((orphan / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tmp_path / "deleted-base")
    (orphan / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="base model .*deleted-base.* is missing"):
        load(orphan)


def test_bridge_keeps_hooked_transformer_names():
    bridge = load("tiny", device="cpu")
    _, cache = bridge.run_with_cache(
        TOKENS[:1], names_filter=lambda name: name.endswith("hook_resid_post")
    )
    assert sorted(cache.keys()) == [
        f"blocks.{layer}.hook_resid_post" for layer in range(bridge.cfg.n_layers)
    ]


def test_layer_and_context_checks():
    bridge = load("tiny", device="cpu")
    assert check_layer(bridge, -1) == bridge.cfg.n_layers - 1
    with pytest.raises(UserError, match="layer 4 is out of range for a 4-layer model"):
        check_layer(bridge, 4)
    with pytest.raises(UserError, match="longer than the model's context of 256"):
        check_context(bridge, 257)


def test_different_tokenizers_are_refused_by_name(tiny_base):
    changed = load_tokenizer(tiny_base)
    changed.add_tokens(["<|extra|>"])
    require_same_vocab({"a": load_tokenizer(tiny_base), "b": load_tokenizer(tiny_base)})
    with pytest.raises(UserError, match="checkpoints tiny and changed have different tokenizers"):
        require_same_vocab({"tiny": load_tokenizer(tiny_base), "changed": changed})


@pytest.mark.slow
def test_smollm2_preset_matches_hf():
    assert max_logit_difference("smollm2-135m") <= 1e-4
