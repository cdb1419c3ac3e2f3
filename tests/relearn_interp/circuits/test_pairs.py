"""Clean/corrupted pairs: equal lengths, gold tokens as in training, several partners per fact,
copy relations left out, held-out halves disjoint, skips counted, bad CSVs refused."""

from __future__ import annotations

import pytest

from relearn_interp.circuits.fact_pairs import copy_relations, entity_pairs
from relearn_interp.circuits.pairs import (
    SKIP_COPIES_SUBJECT,
    SKIP_SAME_TOKEN,
    csv_pairs,
    limit_pairs,
    make_batches,
    split_heldout,
)
from unlearn.errors import UserError
from unlearn.models.loading import load_tokenizer
from unlearn.prompting import encode_example


@pytest.fixture(scope="module")
def tokenizer(tiny_base):
    return load_tokenizer(tiny_base)


def test_entity_pairs_swap_the_subject_for_a_same_length_author(tokenizer, world):
    author = world.authors[2]
    pairs = entity_pairs(tokenizer, world.records, [author.name.upper()], partners=1)
    records = {r.id: r for r in world.records}
    assert pairs.source == f"entity:{author.name}"
    n_skipped = sum(len(ids) for ids in pairs.skipped.values())
    assert len(pairs.pairs) + n_skipped == len(author.facts)
    assert pairs.skipped[SKIP_COPIES_SUBJECT] == ["author002-email"]
    for pair in pairs.pairs:
        assert len(pair.clean_ids) == len(pair.corrupted_ids)
        assert pair.gold != pair.corrupted_gold
        assert pair.subject == author.name and pair.corrupted_subject != author.name
        # the prompt and gold token are exactly the training tokens up to the object
        record = records[pair.fact]
        trained = encode_example(tokenizer, record.question, record.answer).input_ids
        assert trained[: len(pair.clean_ids) + 1] == pair.clean_ids + [pair.gold]
        assert record.fact.object.startswith(pair.gold_text.strip())
        positions = pair.subject_positions  # the name's tokens, in the question and the answer
        assert len(positions) >= 2
        assert all(tokenizer.decode([pair.clean_ids[i]]).strip() in author.name for i in positions)
    # the seed only changes which author corrupts, never the clean side
    other = entity_pairs(tokenizer, world.records, [author.name], partners=1, seed=1)
    assert [p.clean_ids for p in other.pairs] == [p.clean_ids for p in pairs.pairs]


def test_pairs_whose_first_tokens_coincide_are_skipped_and_counted(tokenizer, world):
    skipped = sum(
        len(entity_pairs(tokenizer, world.records, [a.name], 1).skipped.get(SKIP_SAME_TOKEN, []))
        for a in world.authors[:4]
    )
    assert skipped > 0  # e.g. phone numbers all start with "+"


def test_unknown_entity_is_refused_with_known_names(tokenizer, world):
    with pytest.raises(UserError, match="no facts about 'Nobody Here'.*subjects include"):
        entity_pairs(tokenizer, world.records, ["Nobody Here"])


def test_csv_pairs_refuse_unequal_lengths_naming_them(tokenizer, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "clean,corrupted,gold,corrupted_gold\n"
        "Nia Hym was born in,Kys Dyr was born in, Cull, Cial\n"
        "Nia Hym was born in,Somebody with a much longer name was born in, Cull, Cial\n"
    )
    with pytest.raises(UserError, match="unequal token length.*line 3"):
        csv_pairs(tokenizer, path)


def test_csv_pairs_read_gold_tokens_and_skip_identical_golds(tokenizer, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "clean,corrupted,gold,corrupted_gold\n"
        "Nia Hym was born in,Kys Dyr was born in, Cull, Cial\n"
        "Nia Hym was born in,Kys Dyr was born in, Cull, Cull\n"
    )
    pairs = csv_pairs(tokenizer, path)
    assert len(pairs.pairs) == 1 and pairs.skipped == {SKIP_SAME_TOKEN: ["line 3"]}
    assert pairs.pairs[0].gold == tokenizer(" Cull", add_special_tokens=False)["input_ids"][0]
    bad = tmp_path / "bad.csv"
    bad.write_text("clean,corrupted\na,b\n")
    with pytest.raises(UserError, match="lacks the column"):
        csv_pairs(tokenizer, bad)


def test_batches_pad_on_the_right_and_mark_subject_positions(tokenizer, world):
    pairs = entity_pairs(tokenizer, world.records, [world.authors[0].name], 1).pairs[:3]
    batch = make_batches(pairs, 3, tokenizer.pad_token_id, "cpu")[0]
    for row, pair in enumerate(pairs):
        assert batch.last[row] == len(pair.clean_ids) - 1
        assert batch.clean[row, : len(pair.clean_ids)].tolist() == pair.clean_ids
        assert batch.subject[row].nonzero().flatten().tolist() == pair.subject_positions


def test_several_partners_per_fact_and_pooled_entities(tokenizer, world):
    names = [a.name for a in world.authors[-2:]]
    pooled = entity_pairs(tokenizer, world.records, names, partners=3)
    assert pooled.source == "entities:2"
    by_fact: dict[str, list] = {}
    for pair in pooled.pairs:
        by_fact.setdefault(pair.fact, []).append(pair)
        assert pair.id == f"{pair.fact}~{pair.corrupted_subject}"
    assert {p.subject for p in pooled.pairs} == set(names)
    assert max(len(group) for group in by_fact.values()) == 3
    for group in by_fact.values():
        partners = [p.corrupted_subject for p in group]
        assert len(set(partners)) == len(partners) and len({p.relation for p in group}) == 1
        assert len({tuple(p.clean_ids) for p in group}) == 1
    assert "email" not in {p.relation for p in pooled.pairs}


def test_the_email_relation_copies_the_subject_and_is_left_out(world):
    assert copy_relations(world.records) == {"email"}


def test_heldout_pairs_are_disjoint_from_selection_pairs(tokenizer, world):
    names = [a.name for a in world.authors[-2:]]
    pairs = entity_pairs(tokenizer, world.records, names, partners=3).pairs
    selection, heldout = split_heldout(pairs, seed=0)
    assert {p.id for p in selection}.isdisjoint({p.id for p in heldout})
    assert {p.fact for p in selection}.isdisjoint(
        {p.fact for p in heldout}
    )  # partners stay together
    assert sorted(p.id for p in selection + heldout) == sorted(p.id for p in pairs)
    assert abs(len(selection) - len(heldout)) <= 3
    # relations with two facts (one per entity) show up in both halves
    shared = {p.relation for p in selection} & {p.relation for p in heldout}
    assert len(shared) >= 3
    assert split_heldout(pairs, seed=1) != (selection, heldout)
    with pytest.raises(UserError, match="at least two facts"):
        split_heldout([p for p in pairs if p.fact == pairs[0].fact])


def test_limit_keeps_whole_facts(tokenizer, world):
    pairs = entity_pairs(tokenizer, world.records, [world.authors[-1].name], partners=3)
    limited = limit_pairs(pairs, 7, seed=0)
    assert len(limited.pairs) <= 7
    kept_facts = {p.fact for p in limited.pairs}
    assert all(p in limited.pairs for p in pairs.pairs if p.fact in kept_facts)
    assert limited.skipped["over_max_pairs"]
