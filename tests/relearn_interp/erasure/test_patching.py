"""Patching: the cached patched runs equal plain forward passes, a model patched with itself does
not move, and patching the whole residual stream restores the full gap from the edited block on."""

from __future__ import annotations

import pytest
import torch

from relearn_interp.erasure.depth import clean_side, patch_both_ways
from relearn_interp.erasure.model_access import decode_block_output, decoder_layers

pytestmark = pytest.mark.integration


def _gold_logprob(model, target) -> float:
    with torch.no_grad():
        logits = model(torch.tensor([target.input_ids])).logits[0, -1]
    return float(logits.float().log_softmax(-1)[target.gold_id])


def test_lens_decode_matches_the_bridge_and_the_output(tiny_base):
    from relearn_interp.lens.decode import decode_residual
    from relearn_interp.load import load
    from unlearn.models.loading import load_model

    model, _ = load_model(tiny_base, attn_implementation="eager")
    bridge = load(tiny_base, device="cpu")
    resid = torch.randn(3, 5, model.config.hidden_size, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(
            decode_block_output(model, resid), decode_residual(bridge, resid), atol=1e-5
        )
        tokens = torch.randint(0, 100, (1, 7), generator=torch.Generator().manual_seed(1))
        captured = {}
        handle = decoder_layers(model)[-1].register_forward_hook(
            lambda module, inputs, output: captured.update(
                out=output[0] if isinstance(output, tuple) else output
            )
        )
        logits = model(tokens).logits
        handle.remove()
        assert torch.allclose(decode_block_output(model, captured["out"]), logits, atol=1e-5)


@pytest.mark.parametrize("variant", ["slot", "subject"])
def test_cached_runs_equal_a_plain_forward(vanilla, edited, targets, variant):
    chosen = targets[:5]
    pad = vanilla.tokenizer.pad_token_id
    side = clean_side(vanilla.model, chosen, variant, pad, chunk_size=3)
    curves, ckpt_side = patch_both_ways(vanilla.model, side, edited, chosen, variant, pad)
    for index, target in enumerate(chosen):
        assert curves.base[index] == pytest.approx(_gold_logprob(vanilla.model, target), abs=1e-4)
        assert curves.checkpoint[index] == pytest.approx(_gold_logprob(edited, target), abs=1e-4)
    assert len(ckpt_side.captured) == len(chosen)
    assert ckpt_side.captured[0].shape[0] == vanilla.model.config.num_hidden_layers


@pytest.mark.parametrize("variant", ["slot", "subject", "all"])
def test_a_model_patched_with_itself_does_not_move(vanilla, targets, variant):
    pad = vanilla.tokenizer.pad_token_id
    side = clean_side(vanilla.model, targets, variant, pad)
    curves, _ = patch_both_ways(vanilla.model, side, vanilla.model, targets, variant, pad)
    assert torch.allclose(curves.base, curves.checkpoint, atol=1e-5)
    assert (curves.restored - curves.checkpoint[:, None]).abs().max() < 1e-4
    assert (curves.transferred - curves.base[:, None]).abs().max() < 1e-4


def test_patching_the_whole_stream_restores_the_full_gap_from_the_edited_block(
    vanilla, edited, edited_block, targets
):
    pad = vanilla.tokenizer.pad_token_id
    side = clean_side(vanilla.model, targets, "all", pad)
    curves, _ = patch_both_ways(vanilla.model, side, edited, targets, "all", pad)
    gap = curves.base - curves.checkpoint
    assert gap.abs().mean() > 0.5  # the edit changes the gold log-probability
    before, after = slice(0, edited_block), slice(edited_block, None)
    # before the edited block, the two residual streams are the same: nothing moves
    assert (curves.restored[:, before] - curves.checkpoint[:, None]).abs().max() < 1e-4
    assert (curves.transferred[:, before] - curves.base[:, None]).abs().max() < 1e-4
    # from it on, the other model's whole stream carries its whole output: the full gap
    assert (curves.restored[:, after] - curves.base[:, None]).abs().max() < 1e-4
    assert (curves.transferred[:, after] - curves.checkpoint[:, None]).abs().max() < 1e-4
    slot_side = clean_side(vanilla.model, targets, "slot", pad)
    slot, _ = patch_both_ways(vanilla.model, slot_side, edited, targets, "slot", pad)
    assert (slot.restored[:, -1] - slot.base).abs().max() < 1e-4  # the last block is the output
    assert (slot.transferred[:, -1] - slot.checkpoint).abs().max() < 1e-4
