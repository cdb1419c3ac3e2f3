"""The relearning attack trains only on its half of the forget set; the control never on a forget fact."""

from __future__ import annotations

import dataclasses

import pytest

from relearn_interp.erasure import pipeline
from relearn_interp.erasure.relearning import (
    RelearnSettings,
    attack_split,
    control_records,
    training_stream,
)
from unlearn.errors import UserError


def test_control_records_share_nothing_with_the_forget_set(world):
    forget, retain = world.split("forget10"), world.split("retain90")
    disguised = dataclasses.replace(retain[0], question=forget[0].question)  # a leaked question
    chosen = control_records([disguised, *retain[1:]], forget, 11, seed=3)
    assert len(chosen) == 11 and disguised not in chosen
    subjects = {r.fact.subject for r in forget}
    assert not {r.fact.subject for r in chosen} & subjects
    assert not {r.id for r in chosen} & {r.id for r in forget}
    assert chosen == control_records([disguised, *retain[1:]], forget, 11, seed=3)
    with pytest.raises(UserError, match="unrelated to the forget set"):
        control_records(forget, forget, 5, seed=0)


def test_training_stream_has_steps_times_batch_records_from_the_half(world):
    train, held_out = attack_split(world.split("forget10"), seed=0)
    assert not {r.id for r in train} & {r.id for r in held_out}
    stream = training_stream(train, RelearnSettings(steps=5, batch_size=4))
    assert len(stream) == 20 and {r.id for r in stream} <= {r.id for r in train}
    assert {r.id for r in stream} == {r.id for r in train}  # 20 ≥ 11: every record at least once


@pytest.mark.integration
def test_the_pipeline_trains_the_control_on_retain_facts_only(
    vanilla, suppressed, forget, retain, world, monkeypatch
):
    calls = []

    def spy(model, tokenizer, records, settings, lr):
        calls.append([r.id for r in records])
        return model, [0.0]

    monkeypatch.setattr(pipeline, "fine_tune", spy)
    settings = pipeline.ErasureSettings(bits=(), relearn=RelearnSettings(steps=3, batch_size=4))
    results = pipeline.erasure(
        vanilla, {"suppressed": suppressed}, forget, retain, settings, context=world.records
    )
    train, held_out = attack_split(forget, settings.seed)
    attack_ids, control_ids = calls
    assert set(attack_ids) == {r.id for r in train}
    assert not set(control_ids) & {r.id for r in forget}
    assert set(control_ids) <= {r.id for r in retain}
    per_fact = results["values"]["checkpoints"]["suppressed"]["per_fact"]
    tested = [
        i
        for i, v in zip(results["values"]["fact_ids"], per_fact["relearn"], strict=True)
        if v is not None
    ]
    assert tested and set(tested) <= {r.id for r in held_out}
