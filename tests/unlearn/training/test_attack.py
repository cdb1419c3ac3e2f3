"""The relearning attack: the seeded split of the forget set, and the attack itself on the tiny
model (a trained float32 copy, the original untouched; the vanilla loop's numbers)."""

from __future__ import annotations

import copy

import pytest
import torch

from unlearn.errors import UserError
from unlearn.models.loading import load_model
from unlearn.training.attack import relearn, split_halves
from unlearn.training.finetune import FinetuneConfig, train_sft


def test_split_halves_is_seeded_disjoint_and_complete(world):
    records = world.split("forget10")
    trained, held_out = split_halves(records, seed=0)
    assert split_halves(records, seed=0) == (trained, held_out)
    assert {r.id for r in trained} | {r.id for r in held_out} == {r.id for r in records}
    assert not {r.id for r in trained} & {r.id for r in held_out}
    assert len(trained) == len(records) // 2
    with pytest.raises(UserError, match="at least 2"):
        split_halves(records[:1], seed=0)


def test_an_attack_without_records_is_refused():
    with pytest.raises(UserError, match="needs records to train on; got none"):
        relearn(None, None, [], epochs=1, lr=1e-3, batch_size=1, seed=0)


@pytest.mark.integration
def test_the_attack_trains_a_float32_copy_with_the_vanilla_loop(tiny_base, world, one_thread):
    model, tokenizer = load_model(tiny_base, dtype=torch.bfloat16)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    records = world.split("forget10")[:4]
    attacked, losses = relearn(model, tokenizer, records, epochs=2, lr=1e-3, batch_size=2, seed=3)
    assert attacked is not model and next(attacked.parameters()).dtype == torch.float32
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    config = FinetuneConfig(epochs=2, lr=1e-3, batch_size=2, warmup_ratio=0.0, seed=3)
    _, expected = train_sft(copy.deepcopy(model).float(), tokenizer, records, config)
    assert len(losses) == 4 and losses == expected
