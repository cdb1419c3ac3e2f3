"""Gold tokens: the first token that tells a relation's objects apart, its decoys, the subject."""

from __future__ import annotations

from relearn_interp.erasure.targets import build_targets, informative_offset
from unlearn.data.records import QARecord
from unlearn.models.loading import load_tokenizer


def test_informative_offset_skips_shared_prefixes():
    assert informative_offset([5, 7, 9], [[5, 8], [6, 7]]) == 1
    assert informative_offset([5, 7], [[4]]) == 0
    assert informative_offset([5, 7], [[5, 7, 1]]) is None  # a prefix of another object


def test_targets_pick_the_distinguishing_token(world, tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    records = world.split("forget10")
    targets = {t.id: t for t in build_targets(tokenizer, records, world.records)}
    author = world.authors[-1]  # forget splits take the last authors
    book = targets[
        next(
            r.id
            for r in records
            if r.fact.subject == author.name and r.fact.relation == "first_book"
        )
    ]
    gold = tokenizer.decode([book.gold_id]).strip()
    assert book.informative and gold != "The" and gold in author.facts["first_book"]
    assert book.gold_index > 0 and book.gold_id not in book.decoy_ids and book.decoy_ids
    others = [a.facts["first_book"] for a in world.authors if a is not author]
    decoys = {tokenizer.decode([d]).strip() for d in book.decoy_ids}
    assert all(any(d and d in title for title in others) for d in decoys)
    subject = tokenizer.decode([book.input_ids[p] for p in book.subject_positions]).strip()
    assert subject == author.name
    assert book.input_ids[book.slot] != book.gold_id and book.slot == len(book.input_ids) - 1


def test_a_record_without_fact_falls_back_to_the_first_token(tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    record = QARecord(id="q", question="Say hi.", answer="Hi there.")
    (target,) = build_targets(tokenizer, [record])
    assert target.gold_index == 0 and not target.informative and target.decoy_ids == []
    assert target.subject_positions == []
