"""Models shared by the erasure probes' tests and the erasure command's: the tiny vanilla
checkpoint, a "suppressed" copy (gold tokens' unembedding rows damped, so only the output
changes) and a copy edited inside one block."""

from __future__ import annotations

import copy

import pytest
import torch


@pytest.fixture(scope="session")
def vanilla(vanilla_ckpt):
    from relearn_interp.erasure.pipeline import Model
    from unlearn.models.loading import load_model

    model, tokenizer = load_model(vanilla_ckpt, attn_implementation="eager")
    return Model("vanilla", model, tokenizer, "vanilla", relearn_lr=3e-4)


@pytest.fixture(scope="session")
def forget(world):
    return world.split("forget10")


@pytest.fixture(scope="session")
def retain(world):
    return world.split("retain90")


@pytest.fixture(scope="session")
def targets(vanilla, forget, world):
    from relearn_interp.erasure.targets import build_targets

    return build_targets(vanilla.tokenizer, forget, world.records)


def suppress_at_output(model, token_ids: list[int], factor: float = -1.0):
    """A copy whose unembedding rows of `token_ids` are scaled by `factor` (the embedding is not
    tied to it, so every residual stream stays the vanilla model's)."""
    suppressed = copy.deepcopy(model)
    head = suppressed.get_output_embeddings()
    assert head.weight.data_ptr() != suppressed.get_input_embeddings().weight.data_ptr()
    with torch.no_grad():
        head.weight[sorted(set(token_ids))] *= factor
    return suppressed


@pytest.fixture(scope="session")
def suppressed(vanilla, targets):
    from relearn_interp.erasure.pipeline import Model

    model = suppress_at_output(vanilla.model, [t.gold_id for t in targets])
    return Model("suppressed", model, vanilla.tokenizer, "suppressed", relearn_lr=3e-4)


@pytest.fixture(scope="session")
def edited_block() -> int:
    return 2


@pytest.fixture(scope="session")
def edited(vanilla, edited_block):
    """Vanilla with noise added to one block's MLP output weights: the blocks before it are the same."""
    model = copy.deepcopy(vanilla.model)
    block = model.model.layers[edited_block]
    with torch.no_grad():
        generator = torch.Generator().manual_seed(0)
        weight = block.mlp.down_proj.weight
        weight.add_(torch.randn(weight.shape, generator=generator) * weight.std() * 20)
    return model
