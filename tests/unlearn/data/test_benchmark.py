"""The fictitious-author benchmark: determinism, uniqueness, TOFU fields and splits."""

from __future__ import annotations

import json

import pytest

from unlearn.data.benchmark import build_world, load_world, write_world
from unlearn.data.relations import RELATIONS
from unlearn.errors import UserError


def test_same_seed_same_world_and_different_seed_differs():
    first, again, other = build_world(30, seed=3), build_world(30, seed=3), build_world(30, seed=4)
    assert [r.to_json() for r in first.records] == [r.to_json() for r in again.records]
    assert [a.name for a in first.authors] != [a.name for a in other.authors]


def test_names_and_objects_never_collide_even_at_tofu_size():
    world = build_world(200, seed=0)
    names = [a.name.lower() for a in world.authors]
    objects = [obj.lower() for a in world.authors for obj in a.facts.values()]
    assert len(set(names)) == 200
    assert len(set(objects)) == len(objects) == 200 * len(RELATIONS)
    assert not set(names) & set(objects)
    general_objects = {r.fact.object.lower() for r in world.general}
    assert not general_objects & set(objects)


def test_records_have_tofu_fields_and_triples(world):
    assert len(world.records) == 20 * len(RELATIONS)
    for record in world.records:
        assert record.fact.object in record.answer
        assert record.fact.object in record.paraphrased_answer
        assert record.fact.subject in record.question
        assert record.answer.endswith(record.fact.object + ".")
        assert record.answer_prefix + record.fact.object + "." == record.answer
        assert len(record.perturbed_answer) == 3
        assert all(record.fact.object not in wrong for wrong in record.perturbed_answer)


@pytest.mark.integration
def test_name_token_lengths_vary_and_swaps_of_equal_length_exist(world, tiny_base):
    from transformers import AutoTokenizer

    from unlearn.models.gguf import smollm2_gguf_path
    from unlearn.models.loading import load_tokenizer

    gguf = smollm2_gguf_path()
    smollm = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    lengths = [
        len(smollm(" " + a.name, add_special_tokens=False)["input_ids"]) for a in world.authors
    ]
    assert len(set(lengths)) >= 3, lengths
    # Nearly every author has a swap partner of equal token length (19 of 20 under SmolLM2).
    assert sum(lengths.count(n) >= 2 for n in lengths) >= 0.9 * len(lengths), lengths
    tiny = load_tokenizer(tiny_base)
    tiny_lengths = [
        len(tiny(" " + a.name, add_special_tokens=False)["input_ids"]) for a in world.authors
    ]
    assert all(tiny_lengths.count(n) >= 2 for n in tiny_lengths)


def test_splits_are_nested_and_complementary(world):
    forget01, forget05, forget10 = (set(world.forget_authors(p)) for p in (1, 5, 10))
    assert forget01 <= forget05 <= forget10
    assert len(forget10) == 2  # 10% of 20 authors
    forget, retain = world.split("forget10"), world.split("retain90")
    assert len(forget) + len(retain) == len(world.records)
    assert not {r.id for r in forget} & {r.id for r in retain}
    assert {r.fact.subject for r in forget} == forget10


def test_general_set_has_about_a_hundred_facts(world):
    assert len(world.general) == 100
    assert all(r.answer.endswith(r.fact.object + ".") for r in world.general)


@pytest.mark.parametrize("pcts", [(0, 5), (5, 100), (-1,)])
def test_out_of_range_split_percentages_are_refused(pcts):
    with pytest.raises(UserError, match="forget percentage"):
        build_world(20, 0, pcts)


def test_write_and_reload(tmp_path, world):
    out = write_world(world, tmp_path / "bench")
    names = {p.name for p in out.iterdir()}
    assert {
        "world.json",
        "full.json",
        "general.json",
        "forget01.json",
        "retain99.json",
        "forget10.json",
        "retain90.json",
        "manifest.json",
    } <= names
    assert len(json.loads((out / "forget10.json").read_text())) == 22
    assert [a.name for a in load_world(out).authors] == [a.name for a in world.authors]
    with pytest.raises(UserError, match="already exists"):
        write_world(world, out)
    write_world(world, out, overwrite=True)


def test_retain_eval_is_held_out_from_retain_train():
    world = build_world(10, seed=0, forget_pcts=(30,))
    forget, retain = world.split("forget30"), world.split("retain70")
    train, held = world.split("retain70_train"), world.split("retain70_eval")
    subjects = {name: {r.fact.subject for r in rows} for name, rows in
                {"forget": forget, "train": train, "held": held}.items()}  # fmt: skip
    assert len(forget) == len(held) == 33 and len(train) == 44
    assert not subjects["train"] & subjects["held"] and not subjects["held"] & subjects["forget"]
    assert {r.id for r in train} | {r.id for r in held} == {r.id for r in retain}
    assert len(subjects["held"]) == len(world.forget_authors(30)) == 3
