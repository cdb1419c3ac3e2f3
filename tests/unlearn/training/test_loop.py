"""The training loop: its pure helpers (data order, gradient sums, answer-token counts), bf16
autocast and gradient clipping."""

from __future__ import annotations

import math

import pytest
import torch

from unlearn.data.loaders import load_data
from unlearn.errors import UserError
from unlearn.models.loading import load_model
from unlearn.prompting import IGNORE_INDEX, Example
from unlearn.training.config import TrainConfig
from unlearn.training.loop import TrainLoop, add_gradients, answer_token_count, epoch_pairs

pytestmark = pytest.mark.usefixtures("one_thread")


def test_epoch_order_is_a_seeded_permutation_paired_with_retain_draws():
    pairs = epoch_pairs(6, 3, seed=1, epoch=0)
    assert epoch_pairs(6, 3, seed=1, epoch=0) == pairs  # a resumed run sees the same order
    assert sorted(item for item, _ in pairs) == list(range(6))
    assert all(0 <= retain < 3 for _, retain in pairs)
    assert epoch_pairs(6, 3, seed=1, epoch=1) != pairs
    assert [retain for _, retain in epoch_pairs(4, 0, seed=1, epoch=0)] == [None] * 4


def test_gradients_add_up_over_micro_batches_and_missing_ones_pass_through():
    one, two = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.5])
    assert add_gradients(None, [one, None]) == [one, None]
    total = add_gradients([one, None, None], [two, two, None])
    assert torch.equal(total[0], torch.tensor([1.5, 2.5])) and total[1] is two and total[2] is None


def test_answer_tokens_are_the_labelled_positions_after_the_first():
    example = Example(input_ids=[5, 6, 7, 8], labels=[7, IGNORE_INDEX, 7, 8])
    assert answer_token_count(example) == 2  # a label at position 0 predicts nothing


@pytest.mark.integration
def test_bf16_mixed_precision_runs_matmuls_in_bf16_and_tracks_fp32(tiny_base, bench_dir):
    """`mixed_precision="bf16"` autocasts the forward passes (linear outputs are bf16), keeps the
    weights fp32, and its first-step loss matches the fp32 run's to bf16 accuracy."""
    from unlearn.methods import METHODS
    from unlearn.training.data import encode_pairs

    pairs = [(r.question, r.answer) for r in load_data(f"ours:{bench_dir}#forget10")[:8]]
    losses, dtypes = {}, {}
    for precision in ("no", "bf16"):
        model, tokenizer = load_model(tiny_base)
        config = TrainConfig(epochs=1, batch_size=8, lr=1e-3, mixed_precision=precision)
        items = encode_pairs(tokenizer, pairs, 256)
        loop = TrainLoop(model, METHODS["ga"], items, [], config, tokenizer.pad_token_id)

        def record(_module, _inputs, out, key=precision) -> None:
            dtypes.setdefault(key, out.dtype)

        handle = loop.model.model.layers[0].mlp.down_proj.register_forward_hook(record)
        losses[precision] = loop._train_step(loop._groups(0)[0])["loss"]
        handle.remove()
        assert all(p.dtype == torch.float32 for p in loop.model.parameters())
    assert dtypes == {"no": torch.float32, "bf16": torch.bfloat16}
    assert losses["bf16"] == pytest.approx(losses["no"], rel=0.03)
    with pytest.raises(UserError, match="mixed_precision 'fp8' is not one of auto, no, bf16"):
        TrainConfig(mixed_precision="fp8").check()


@pytest.mark.integration
@pytest.mark.parametrize(("max_norm", "expected"), [(1.0, 1.0), (0.0, math.inf)])
def test_max_grad_norm_zero_turns_clipping_off(tiny_base, bench_dir, max_norm, expected):
    """The reference does not clip: `max_grad_norm` 0 passes an infinite limit (the norm is still
    measured for the divergence guard)."""
    from unlearn.methods import METHODS
    from unlearn.training.data import encode_pairs

    pairs = [(r.question, r.answer) for r in load_data(f"ours:{bench_dir}#forget10")[:4]]
    model, tokenizer = load_model(tiny_base)
    config = TrainConfig(epochs=1, batch_size=4, lr=1e-3, max_grad_norm=max_norm)
    loop = TrainLoop(model, METHODS["ga"], encode_pairs(tokenizer, pairs, 256), [], config, 0)
    limits, clip = [], loop.accelerator.clip_grad_norm_

    def spy(params, limit):
        limits.append(limit)
        return clip(params, limit)

    loop.accelerator.clip_grad_norm_ = spy
    row = loop._train_step(loop._groups(0)[0])
    assert limits == [expected] and math.isfinite(row["grad_norm"]) and row["grad_norm"] > 0


@pytest.mark.integration
def test_sure_backpropagates_each_graph_once_and_sums_the_full_gradient(
    tiny_base, bench_dir, monkeypatch
):
    """SURE takes the forget gradient once and the retain terms' once (the lm_head's backward
    runs twice a micro-batch, not three times), and before masking the gradient it applies is
    the total loss's, w_f · forget + retain."""
    from unlearn.methods import METHODS, compute_terms
    from unlearn.training.data import encode_pairs

    records = load_data(f"ours:{bench_dir}#forget10")
    pairs = [(r.question, r.answer) for r in records[:4]]
    retain_pairs = [(r.question, r.answer) for r in records[4:8]]
    model, tokenizer = load_model(tiny_base)
    config = TrainConfig(epochs=1, batch_size=4, lr=1e-3, forget_weight=0.5, max_grad_norm=0)
    monkeypatch.setattr("unlearn.training.loop.mask_gradients", lambda params, masks: None)
    method = METHODS["ga_gdr_sure"]
    loop = TrainLoop(
        model,
        method,
        encode_pairs(tokenizer, pairs, 256),
        encode_pairs(tokenizer, retain_pairs, 256),
        config,
        tokenizer.pad_token_id,
    )
    group = loop._groups(0)[0]
    forget, retain = loop._batches(group[0])
    terms = compute_terms(method, loop._policy, loop.reference, forget, retain, config)
    expected = torch.autograd.grad(terms.total, loop.params)
    backwards, applied, clip = [], [], loop.accelerator.clip_grad_norm_

    def spy(params, limit):
        applied.extend(p.grad.clone() for p in params)
        return clip(params, limit)

    loop.accelerator.clip_grad_norm_ = spy
    head = loop.model.lm_head.register_full_backward_hook(lambda *_: backwards.append(1))
    loop._train_step(group)
    head.remove()
    assert len(backwards) == 2
    for got, want in zip(applied, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
