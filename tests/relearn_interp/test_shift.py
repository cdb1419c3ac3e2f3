"""Distribution shift: zero against itself, exact divergences and mass accounting on known distributions."""

from __future__ import annotations

import math

import pytest
import torch

from relearn_interp.load import load
from relearn_interp.shift import (
    DESTINATIONS,
    VocabClasses,
    distribution_shift,
    refusal_token_ids,
    shift_stats,
)
from unlearn.errors import UserError
from unlearn.models.loading import load_tokenizer


@pytest.fixture(scope="module")
def records(world):
    return world.split("forget10")[:5]


@pytest.mark.integration
def test_shift_of_a_model_against_itself_is_zero(tiny_base, records):
    base, same = load(tiny_base, device="cpu"), load(tiny_base, device="cpu")
    results = distribution_shift(base, {"same": same}, records, progress=False)
    values = results["values"]["models"]["same"]
    for metric in (
        "kl",
        "kl_reverse",
        "js",
        "tv",
        "entropy_change",
        *(f"moved_to_{d}" for d in DESTINATIONS),
    ):
        assert values["mean"][metric] == 0.0, metric
    assert values["mean"]["topk_overlap"] == 1.0
    assert values["base_top1_kept_rate"] == 1.0 and values["base_top1_rank_median"] == 1.0
    assert values["n_positions"] == sum(len(item["answer_tokens"]) for item in results["items"])


@pytest.mark.integration
def test_perturbed_model_shift_is_bounded_and_accounted(tiny_base, records):
    base, changed = load(tiny_base, device="cpu"), load(tiny_base, device="cpu")
    with torch.no_grad():
        weight = changed.original_model.model.layers[3].mlp.down_proj.weight
        weight.add_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)) * 0.3)
    results = distribution_shift(base, {"changed": changed}, records, progress=False)
    values = results["values"]["models"]["changed"]
    assert 0.0 < values["mean"]["js"] <= math.log(2)
    assert values["mean"]["kl"] > 0 and values["mean"]["kl_reverse"] > 0
    assert sum(values["moved_fraction"].values()) == pytest.approx(1.0, abs=1e-4)
    for item in results["items"]:
        shift = item["models"]["changed"]
        for position, tv in enumerate(shift["tv"]):
            moved = sum(shift[f"moved_to_{d}"][position] for d in DESTINATIONS)
            assert moved == pytest.approx(tv, abs=1e-5)
            assert shift["js"][position] <= math.log(2) * tv + 1e-6  # JS (nats) <= ln 2 * TV


def test_shift_stats_on_known_distributions():
    # vocab: 0 gold, 1 candidate, 2 eos, 3 refusal, 4 malformed, 5 unrelated
    p = torch.tensor([[0.7, 0.2, 0.05, 0.02, 0.02, 0.01]])
    q = torch.tensor([[0.2, 0.3, 0.1, 0.22, 0.1, 0.08]])
    classes = VocabClasses(
        eos_id=2,
        refusal=torch.tensor([0, 0, 0, 1, 0, 0], dtype=torch.bool),
        malformed=torch.tensor([0, 0, 0, 0, 1, 0], dtype=torch.bool),
    )
    stats = shift_stats(p.log(), q.log(), classes, top_k=2)
    m = (p + q) / 2
    kl = lambda a, b: float((a * (a / b).log()).sum())  # noqa: E731
    assert stats["kl"].item() == pytest.approx(kl(p, q), rel=1e-5)
    assert stats["kl_reverse"].item() == pytest.approx(kl(q, p), rel=1e-5)
    assert stats["js"].item() == pytest.approx(0.5 * kl(p, m) + 0.5 * kl(q, m), rel=1e-5)
    assert stats["entropy_model"].item() == pytest.approx(float(-(q * q.log()).sum()), rel=1e-5)
    assert stats["tv"].item() == pytest.approx(0.5, abs=1e-6)
    expected = {
        "vanilla_top1": 0.0,
        "vanilla_candidates": 0.1,
        "eos": 0.05,
        "refusal": 0.2,
        "malformed": 0.08,
        "unrelated": 0.07,
    }
    for destination, mass in expected.items():
        assert stats[f"moved_to_{destination}"].item() == pytest.approx(mass, abs=1e-6), destination
    assert (
        stats["base_top1_rank"].item() == 3
    )  # gold fell behind the candidate and the refusal token
    assert stats["topk_overlap"].item() == 0.5  # base top-2 {0, 1}, model top-2 {1, 3}


def test_refusal_tokens_are_whole_words_or_long_prefixes(tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    pieces = {tokenizer.decode([t]) for t in refusal_token_ids(tokenizer)}
    assert {"I", " I", " not"} <= pieces
    assert "S" not in pieces and " S" not in pieces  # "Sorry" splits into S + or + ry here


@pytest.mark.integration
def test_empty_comparison_is_refused(tiny_base, records):
    base = load(tiny_base, device="cpu")
    with pytest.raises(UserError, match="at least one checkpoint"):
        distribution_shift(base, {}, records, progress=False)
