"""SURE keeps exactly the top 1% of gradient rows, and one SURE step moves only those rows."""

from __future__ import annotations

import pytest
import torch

from unlearn.methods import METHODS
from unlearn.methods.losses import answer_ce
from unlearn.methods.sure import kept_row_count, mask_gradients, row_norms, saliency_masks
from unlearn.prompting import collate
from unlearn.training.config import TrainConfig
from unlearn.training.data import encode_pairs
from unlearn.training.loop import TrainLoop

pytestmark = pytest.mark.usefixtures("one_thread")


def test_kept_row_count_is_the_ceiling_of_the_top_share():
    assert kept_row_count(1000, 99) == 10
    assert kept_row_count(250, 99) == 3
    assert kept_row_count(50, 99) == 1
    assert kept_row_count(1000, 95) == 50


def test_mask_keeps_exactly_the_globally_largest_rows():
    generator = torch.Generator().manual_seed(0)
    grads = [
        torch.randn(300, 4, generator=generator),
        None,
        torch.randn(500, 2, generator=generator) * 2,
        torch.randn(200, generator=generator) * 3,
    ]
    masks = saliency_masks(grads, 99.0)
    norms = torch.cat([grads[0].norm(dim=1), grads[2].norm(dim=1), grads[3].abs()])
    expected = set(torch.argsort(norms, descending=True)[:10].tolist())
    kept = torch.cat([masks[0], masks[2], masks[3]])
    assert masks[1] is None
    assert int(kept.sum()) == 10 == round(0.01 * norms.numel())
    assert set(torch.nonzero(kept).flatten().tolist()) == expected
    params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads if g is not None]
    for param, grad in zip(params, [g for g in grads if g is not None], strict=True):
        param.grad = grad.clone()
    mask_gradients(params, [m for m in masks if m is not None])
    surviving = torch.cat([row_norms(p.grad) > 0 for p in params])
    assert torch.equal(surviving, kept)


@pytest.mark.integration
def test_one_sure_step_moves_only_the_salient_rows(tiny_base, world):
    from unlearn.models.loading import load_model

    model, tokenizer = load_model(tiny_base)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    pairs = [(r.question, r.answer) for r in world.split("forget10")[:6]]
    config = TrainConfig(epochs=1, batch_size=6, lr=1e-3, warmup_ratio=0.0, weight_decay=0.0)
    loop = TrainLoop(
        model,
        METHODS["ga_sure"],
        encode_pairs(tokenizer, pairs, 256),
        [],
        config,
        tokenizer.pad_token_id,
    )
    # The mask, computed independently: row norms of the forget gradient before the step.
    micro = loop._groups(0)[0][0]
    batch = collate([loop.items[i] for i, _ in micro], tokenizer.pad_token_id)
    params = [p for p in model.parameters() if p.requires_grad]
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    grads = torch.autograd.grad(-answer_ce(logits, batch["labels"]), params)
    norms = torch.cat([row_norms(g) for g in grads])
    top = torch.zeros_like(norms, dtype=torch.bool)
    top[torch.argsort(norms, descending=True)[: kept_row_count(norms.numel(), 99.0)]] = True
    loop.run()
    moved = torch.cat(
        [row_norms(p.detach() - before[name]) > 0 for name, p in model.named_parameters()]
    )
    assert loop.log[0]["salient_rows"] == int(top.sum()) == kept_row_count(norms.numel(), 99.0)
    assert torch.equal(moved, top)  # exactly the salient rows moved, nothing else
