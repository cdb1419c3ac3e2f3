"""Clean/corrupted pairs: equal lengths, gold tokens as in training, skips counted, bad CSVs refused."""

from __future__ import annotations

import pytest

from relearn_interp.circuits.pairs import SKIP_SAME_TOKEN, csv_pairs, entity_pairs, make_batches
from unlearn.errors import UserError
from unlearn.models import load_tokenizer
from unlearn.prompting import encode_example


@pytest.fixture(scope="module")
def tokenizer(tiny_base):
    return load_tokenizer(tiny_base)


def test_entity_pairs_swap_the_subject_for_a_same_length_author(tokenizer, world):
    author = world.authors[2]
    pairs = entity_pairs(tokenizer, world.records, author.name.upper())
    records = {r.id: r for r in world.records}
    assert pairs.source == f"entity:{author.name}"
    n_skipped = sum(len(ids) for ids in pairs.skipped.values())
    assert len(pairs.pairs) + n_skipped == len(author.facts)
    for pair in pairs.pairs:
        assert len(pair.clean_ids) == len(pair.corrupted_ids)
        assert pair.gold != pair.corrupted_gold
        assert pair.subject == author.name and pair.corrupted_subject != author.name
        # the prompt and gold token are exactly the training tokens up to the object
        record = records[pair.id]
        trained = encode_example(tokenizer, record.question, record.answer).input_ids
        assert trained[: len(pair.clean_ids) + 1] == pair.clean_ids + [pair.gold]
        assert record.fact.object.startswith(pair.gold_text.strip())
        positions = pair.subject_positions  # the name's tokens, in the question and the answer
        assert len(positions) >= 2
        assert all(tokenizer.decode([pair.clean_ids[i]]).strip() in author.name for i in positions)
    # the seed only changes which author corrupts, never the clean side
    other = entity_pairs(tokenizer, world.records, author.name, seed=1)
    assert [p.clean_ids for p in other.pairs] == [p.clean_ids for p in pairs.pairs]


def test_pairs_whose_first_tokens_coincide_are_skipped_and_counted(tokenizer, world):
    skipped = sum(
        len(entity_pairs(tokenizer, world.records, a.name).skipped.get(SKIP_SAME_TOKEN, []))
        for a in world.authors[:4]
    )
    assert skipped > 0  # e.g. phone numbers all start with "+"


def test_unknown_entity_is_refused_with_known_names(tokenizer, world):
    with pytest.raises(UserError, match="no facts about 'Nobody Here'.*subjects include"):
        entity_pairs(tokenizer, world.records, "Nobody Here")


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
    pairs = entity_pairs(tokenizer, world.records, world.authors[0].name).pairs[:3]
    batch = make_batches(pairs, 3, tokenizer.pad_token_id, "cpu")[0]
    for row, pair in enumerate(pairs):
        assert batch.last[row] == len(pair.clean_ids) - 1
        assert batch.clean[row, : len(pair.clean_ids)].tolist() == pair.clean_ids
        assert batch.subject[row].nonzero().flatten().tolist() == pair.subject_positions
