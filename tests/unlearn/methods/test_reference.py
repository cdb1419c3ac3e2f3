"""The cached reference: each example's reference outputs are computed once, read back equal to
a live computation in any batch, and batches without indices always run the reference."""

from __future__ import annotations

import torch

from unlearn.methods import METHODS, compute_terms
from unlearn.methods.batch import TokenBatch
from unlearn.methods.losses import answer_logprobs, sequence_logprob
from unlearn.methods.reference import CachedReference
from unlearn.prompting import Example
from unlearn.training.config import TrainConfig

VOCAB = 11
TABLE = torch.randn(VOCAB, VOCAB, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
EXAMPLES = [
    Example(input_ids=[1, 2, 3, 4], labels=[-100, -100, 3, 4]),
    Example(input_ids=[5, 6, 7, 8, 9, 10], labels=[-100, -100, -100, 8, 9, 10]),
    Example(input_ids=[2, 4, 6], labels=[-100, 4, 6]),
]


class CountingForward:
    """Logits that depend on each token alone (so any batching gives the same rows)."""

    def __init__(self, shift: float = 0.0):
        self.calls, self.shift = 0, shift

    def __call__(self, batch: TokenBatch) -> torch.Tensor:
        self.calls += 1
        return TABLE[batch.input_ids] + self.shift


def make_batch(indices: list[int], with_indices: bool = True) -> TokenBatch:
    examples = [EXAMPLES[i] for i in indices]
    return TokenBatch.build(examples, 0, 1.0, 1.0, indices=indices if with_indices else None)


def test_each_example_runs_the_reference_once_and_reads_back_the_live_values():
    forward = CountingForward()
    cache = CachedReference(forward)
    for indices in ([0, 1], [2, 0], [1, 2], [0, 2, 1], [1, 1]):
        batch = make_batch(indices)
        live = forward(batch)
        forward.calls -= 1
        assert torch.equal(cache.sequence_logprob(batch), sequence_logprob(live, batch.labels))
        assert torch.equal(cache.answer_logprobs(batch), answer_logprobs(live, batch.labels))
    # first two batches miss (0, 1, then 2) for each of the two outputs; the rest are cached
    assert forward.calls == 4


def test_batches_without_indices_run_the_reference_every_time():
    forward = CountingForward()
    cache = CachedReference.of(forward)
    assert CachedReference.of(cache) is cache
    for _ in range(3):
        cache.sequence_logprob(make_batch([0, 1], with_indices=False))
    assert forward.calls == 3


def test_cached_and_live_reference_give_the_same_terms_and_all_positions_runs_live():
    policy, forward = CountingForward(shift=0.0), CountingForward(shift=0.3)
    cache = CachedReference(forward)
    for name, positions in (("npo_klr", "answer"), ("relearn_klr", "all")):
        config = TrainConfig(kl_positions=positions)
        forward.calls = 0
        for _ in range(3):
            batch = make_batch([0, 2])
            cached = compute_terms(METHODS[name], policy, cache, batch, batch, config)
            live = compute_terms(METHODS[name], policy, forward, batch, batch, config)
            assert torch.equal(cached.total, live.total)
        # live: 3 steps x (NPO + KL); cached: once for NPO and once for KL; all positions: live
        assert forward.calls == (3 * 2 + 2 if positions == "answer" else 3 * 2)
