"""Models and pairs shared by the circuit tests: a random grouped-query Llama and its explicit
expansion (same function, one key/value head per query head), and the tiny vanilla checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

GQA_HEADS, GQA_KV_HEADS = 4, 2


def _gqa_config(tokenizer, n_kv_heads: int):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=GQA_HEADS,
        num_key_value_heads=n_kv_heads,
        max_position_embeddings=128,
        initializer_range=0.2,  # large enough that the model is far from linear
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )


@pytest.fixture(scope="session")
def gqa_dirs(tiny_base, tmp_path_factory) -> tuple[Path, Path]:
    """(grouped-query model, the same model with k/v weights repeated per query head)."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    torch.manual_seed(0)
    grouped = LlamaForCausalLM(_gqa_config(tokenizer, GQA_KV_HEADS))
    expanded = LlamaForCausalLM(_gqa_config(tokenizer, GQA_HEADS))
    state = grouped.state_dict()
    group = GQA_HEADS // GQA_KV_HEADS
    for name, weight in list(state.items()):
        if name.endswith(("k_proj.weight", "v_proj.weight")):
            heads = weight.view(GQA_KV_HEADS, -1, weight.shape[-1])
            state[name] = heads.repeat_interleave(group, dim=0).reshape(-1, weight.shape[-1])
    expanded.load_state_dict(state)
    root = tmp_path_factory.mktemp("gqa")
    for model, name in ((grouped, "grouped"), (expanded, "expanded")):
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    return root / "grouped", root / "expanded"


@pytest.fixture(scope="session")
def gqa_bridges(gqa_dirs):
    from relearn_interp.load import load

    return tuple(load(path, device="cpu") for path in gqa_dirs)


@pytest.fixture(scope="session")
def vanilla_bridge(vanilla_ckpt):
    from relearn_interp.load import load

    return load(vanilla_ckpt, device="cpu")


@pytest.fixture(scope="session")
def vanilla_pairs(vanilla_bridge, world):
    """Pairs for the first author's facts, one corrupting author each."""
    from relearn_interp.circuits.fact_pairs import entity_pairs

    return entity_pairs(vanilla_bridge.tokenizer, world.records, [world.authors[0].name], 1)
