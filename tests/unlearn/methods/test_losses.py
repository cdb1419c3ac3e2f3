"""Each loss term against an independent, position-by-position hand computation on the tiny
model and a fixed batch (two answers of different lengths, so padding is exercised)."""

from __future__ import annotations

import math

import pytest
import torch

from unlearn.methods import METHODS, compute_terms
from unlearn.methods.batch import TokenBatch
from unlearn.methods.losses import answer_ce, kl_to_reference, npo_loss, sequence_logprob
from unlearn.prompting import IGNORE_INDEX, encode_example
from unlearn.training.config import TrainConfig

pytestmark = pytest.mark.integration  # every test loads the tiny model

PAIRS = [
    ("Where was Ana Lee born?", "Ana Lee was born in Harbourvale."),
    ("What is the capital of France?", "Paris."),
]


@pytest.fixture(scope="module")
def models(tiny_base):
    from unlearn.models.loading import load_model

    policy, tokenizer = load_model(tiny_base)
    reference, _ = load_model(tiny_base)
    with torch.no_grad():  # a different, fixed reference so that log-ratios are not zero
        for param in reference.parameters():
            param.add_(0.02 * torch.randn(param.shape, generator=torch.Generator().manual_seed(1)))
    return policy, reference, tokenizer


@pytest.fixture(scope="module")
def batch(models):
    _, _, tokenizer = models
    examples = [encode_example(tokenizer, q, a) for q, a in PAIRS]
    return TokenBatch.build(examples, tokenizer.pad_token_id, n_tokens=None, n_sequences=None)


@pytest.fixture(scope="module")
def logits(models, batch):
    policy, reference, _ = models
    with torch.no_grad():
        return (
            policy(**batch.model_inputs()).logits.double(),
            reference(**batch.model_inputs()).logits.double(),
        )


def answer_positions(batch: TokenBatch) -> list[list[tuple[int, int]]]:
    """Per row, (position whose logits predict, answer token id) for every answer token."""
    rows = []
    for row in batch.labels.tolist():
        rows.append(
            [(t - 1, token) for t, token in enumerate(row) if t > 0 and token != IGNORE_INDEX]
        )
    return rows


def logprob_by_hand(logits: torch.Tensor, row: int, position: int, token: int) -> float:
    vector = logits[row, position].tolist()
    top = max(vector)
    return vector[token] - top - math.log(sum(math.exp(v - top) for v in vector))


def test_ga_is_minus_token_mean_cross_entropy(batch, logits, models):
    policy_logits, _ = logits
    terms = [
        -logprob_by_hand(policy_logits, r, p, tok)
        for r, row in enumerate(answer_positions(batch))
        for p, tok in row
    ]
    hand = sum(terms) / len(terms)
    ours = answer_ce(policy_logits, batch.labels).item()
    assert ours == pytest.approx(hand, rel=1e-9)
    assert len(terms) == (batch.labels[:, 1:] != IGNORE_INDEX).sum()  # both answers, EOS included
    hf_loss = models[0](**batch.model_inputs(), labels=batch.labels).loss.item()
    assert ours == pytest.approx(hf_loss, rel=1e-5)  # transformers' own causal-LM loss agrees
    ga = METHODS["ga"].forget_term(policy_logits, batch, None, TrainConfig())
    assert ga.item() == pytest.approx(-hand, rel=1e-9)


def test_npo_uses_summed_sequence_logprobs_and_beta(batch, logits):
    policy_logits, ref_logits = logits
    beta = 0.1
    ratios = []
    for r, row in enumerate(answer_positions(batch)):
        lp = sum(logprob_by_hand(policy_logits, r, p, tok) for p, tok in row)
        ref = sum(logprob_by_hand(ref_logits, r, p, tok) for p, tok in row)
        ratios.append(lp - ref)
    hand = -(2 / beta) * sum(math.log(1 / (1 + math.exp(beta * x))) for x in ratios) / len(ratios)
    ours = npo_loss(
        sequence_logprob(policy_logits, batch.labels),
        sequence_logprob(ref_logits, batch.labels),
        beta,
    ).item()
    assert ours == pytest.approx(hand, rel=1e-9)
    assert abs(ratios[0]) > 0.1  # the reference really differs
    same = npo_loss(
        sequence_logprob(policy_logits, batch.labels),
        sequence_logprob(policy_logits, batch.labels),
        beta,
    ).item()
    assert same == pytest.approx(20 * math.log(2), rel=1e-9)  # (2/β)·log 2 at the start
    reference = lambda b: ref_logits  # noqa: E731
    npo = METHODS["npo"].forget_term(policy_logits, batch, reference, TrainConfig(beta=beta))
    assert npo.item() == pytest.approx(hand, rel=1e-9)


def kl_by_hand(policy_logits, ref_logits, row: int, position: int) -> float:
    p = torch.softmax(ref_logits[row, position], -1).tolist()
    q = torch.softmax(policy_logits[row, position], -1).tolist()
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0)


def test_kl_over_answer_tokens_and_over_all_positions(batch, logits):
    policy_logits, ref_logits = logits
    answer = [
        kl_by_hand(policy_logits, ref_logits, r, p)
        for r, row in enumerate(answer_positions(batch))
        for p, _ in row
    ]
    ours = kl_to_reference(policy_logits, ref_logits, batch.labels).item()
    assert ours == pytest.approx(sum(answer) / len(answer), rel=1e-7)
    rows, length = batch.labels.shape
    everywhere = [
        kl_by_hand(policy_logits, ref_logits, r, p) for r in range(rows) for p in range(length)
    ]
    ours_all = kl_to_reference(policy_logits, ref_logits, batch.labels, all_positions=True).item()
    assert ours_all == pytest.approx(sum(everywhere) / len(everywhere), rel=1e-7)
    assert abs(ours_all - ours) / ours > 0.01  # prompt and padding positions change the value


def test_composed_objectives_weight_their_terms(batch, logits):
    policy_logits, ref_logits = logits
    ce = answer_ce(policy_logits, batch.labels).item()
    kl = kl_to_reference(policy_logits, ref_logits, batch.labels).item()
    config = TrainConfig(forget_weight=2.0, retain_weight=0.5, kl_weight=3.0)
    policy, reference = (lambda b: policy_logits), (lambda b: ref_logits)
    expected = {
        "ga_gdr": -2 * ce + 0.5 * ce,
        "ga_klr": -2 * ce + 3 * kl,
        "relearn": 2 * ce + 0.5 * ce + 3 * kl,
        "relearn_gdr": 2.5 * ce,
        "relearn_klr": 2 * ce + 3 * kl,
    }
    for name, value in expected.items():
        terms = compute_terms(METHODS[name], policy, reference, batch, batch, config)
        assert terms.total.item() == pytest.approx(value, rel=1e-9), name


def test_global_normalisers_make_split_batches_sum_to_the_whole(models, logits, batch):
    """What several processes rely on: halves normalised by half the global counts average to
    the whole batch's token- and sequence-means."""
    policy_logits, ref_logits = logits
    total_tokens = int((batch.labels[:, 1:] != IGNORE_INDEX).sum())
    halves = [slice(0, 1), slice(1, 2)]
    ce = sum(answer_ce(policy_logits[s], batch.labels[s], total_tokens / 2) for s in halves) / 2
    assert ce.item() == pytest.approx(answer_ce(policy_logits, batch.labels).item(), rel=1e-9)
    kl = (
        sum(
            kl_to_reference(
                policy_logits[s], ref_logits[s], batch.labels[s], n_tokens=total_tokens / 2
            )
            for s in halves
        )
        / 2
    )
    assert kl.item() == pytest.approx(
        kl_to_reference(policy_logits, ref_logits, batch.labels).item(), rel=1e-9
    )
    lp, ref = (
        sequence_logprob(policy_logits, batch.labels),
        sequence_logprob(ref_logits, batch.labels),
    )
    npo = sum(npo_loss(lp[s], ref[s], 0.1, n_sequences=1) for s in halves) / 2
    assert npo.item() == pytest.approx(npo_loss(lp, ref, 0.1).item(), rel=1e-9)
