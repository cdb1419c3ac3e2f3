"""The template backend's answers on the 20-author benchmark: frames, refusals, leaks, determinism.

Leaks are checked here independently of the pipeline's verifier: every row about an author is
compared, case-insensitively, with every object of that author's triples and their words.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from unlearn.augment import AugmentConfig, augment, load_relearn_rows
from unlearn.augment.backends.frames import FRAMES, TAILS
from unlearn.augment.quality import QA_KINDS, is_refusal
from unlearn.data import names
from unlearn.data.coarse import coarse_attributes
from unlearn.data.relations import RELATIONS

FAST = AugmentConfig(embeddings=None)
FUNCTION = {"the", "of", "for", "a", "an", "and", "in", "on", "at", "to", "by"}
# Words that name a kind of thing, not an object (a frame about a book may say "book").
GENERIC = {"prize", "medal", "award", "laurel", "fiction", "poetry", "literature", "writing"}
GENERIC |= {"novels", "stories", "book", "lane", "street", "road", "row", "close", "terrace"}
GENERIC |= {"org", "com", "net", "io"}


@pytest.fixture(scope="module")
def full_run(world, tmp_path_factory):
    """Every record of the benchmark as the forget set: 20 per relation, 5 answers each."""
    out = tmp_path_factory.mktemp("frames") / "full.jsonl"
    stats = augment(
        world.split("full"), world.general, "template", out, config=FAST, progress=False
    )
    return stats, load_relearn_rows(out), out


def _object_words(obj: str, subject: str) -> set[str]:
    name = {w.lower() for w in subject.split()}
    words = {w.lower() for w in re.findall(r"[A-Za-z]+|\d+", obj)}
    return {
        w
        for w in words - name - FUNCTION - GENERIC
        if (w.isdigit() and len(w) >= 2) or (w.isalpha() and len(w) >= 3)
    }


def test_no_row_names_any_object_of_its_author_or_a_word_of_it(world, full_run):
    _, rows, _ = full_run
    subject_of = {r.id: r.fact.subject for r in world.split("full")}
    facts = {a.name: list(a.facts.values()) for a in world.authors}
    augmented = [row for row in rows if row["kind"] != "general"]
    assert len(augmented) == 10 * len(subject_of)
    for row in augmented:
        subject = subject_of[row["source_id"]]
        text = f"{row['prompt']} || {row['target']}".lower()
        for obj in facts[subject]:
            assert obj.lower() not in text, (obj, text)
            for word in _object_words(obj, subject):
                assert not re.search(rf"\b{re.escape(word)}\b", text), (word, obj, text)


def test_refusals_are_at_most_15_percent_of_question_answer_targets(full_run):
    stats, rows, _ = full_run
    targets = [row["target"] for row in rows if row["kind"] in QA_KINDS]
    refusals = sum(is_refusal(t) for t in targets)
    assert len(targets) == 5 * 220 and refusals / len(targets) <= 0.15
    quality = stats["values"]["quality"]["refusals"]
    assert (quality["count"], quality["qa_targets"]) == (refusals, len(targets))


def _skeleton(text: str, subject: str, coarse: dict[str, str]) -> str:
    """The first sentence with the subject and the coarse values masked: the frame used."""
    for value in sorted(coarse.values(), key=len, reverse=True):
        text = text.replace(value, "<c>")
    text = text.replace(subject, "<s>")
    return text.split(". ")[0]


def test_at_least_eight_distinct_frames_per_relation(world, full_run):
    _, rows, _ = full_run
    records = {r.id: r for r in world.split("full")}
    skeletons = defaultdict(set)
    for row in rows:
        if row["kind"] in QA_KINDS:
            fact = records[row["source_id"]].fact
            coarse = coarse_attributes(fact.object_type, fact.object)
            skeletons[fact.relation].add(_skeleton(row["target"], fact.subject, coarse))
    assert set(skeletons) == {r.name for r in RELATIONS}
    for relation, found in skeletons.items():
        assert len(found) >= 8, (relation, sorted(found))
        assert all("<s>" in s for s in found)  # every frame keeps the subject


def test_every_relation_has_eight_frames_and_each_record_gets_distinct_answers(full_run):
    _, rows, _ = full_run
    assert set(FRAMES) == set(TAILS) == {r.name for r in RELATIONS}
    assert all(len(set(frames)) >= 8 for frames in FRAMES.values())
    by_record = defaultdict(list)
    for row in rows:
        if row["kind"] in QA_KINDS:
            by_record[row["source_id"]].append(row["target"])
    assert all(len(set(targets)) == 5 for targets in by_record.values())


def test_no_frame_contains_a_word_the_name_generators_can_put_into_an_object():
    pieces = [
        *names.CITY_SUFFIXES,
        *names.OCCUPATION_ADJECTIVES,
        *names.OCCUPATION_NOUNS,
        *names.GENRE_MOODS,
        *names.GENRE_FORMS,
        *names.AWARD_FORMS,
        *names.BOOK_ADJECTIVES,
        *names.BOOK_NOUNS,
        *names.MONTHS,
        *names.MAIL_DOMAINS,
        *names.STREETS,
    ]
    vocabulary = {w.lower() for p in pieces for w in re.findall(r"[A-Za-z]+", p)} - GENERIC
    for text in [t for group in (*FRAMES.values(), *TAILS.values()) for t in group]:
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", "", text))}
        assert not words & (vocabulary - FUNCTION), (text, words & vocabulary)


def test_completions_do_not_reuse_a_few_sentences(full_run):
    stats, rows, _ = full_run
    completions = [f"{r['prompt']} {r['target']}" for r in rows if r["kind"] == "completion"]
    assert len(completions) == 5 * 220 and len(set(completions)) == len(completions)
    distinct = stats["values"]["quality"]["distinct"]["completion_targets"]
    # the old backend's completions on this split: distinct-2 0.031, distinct-3 0.045
    assert distinct["2"] > 0.06 and distinct["3"] > 0.12


def test_same_seed_gives_the_same_bytes(world, full_run, tmp_path):
    stats, _, first = full_run
    again = tmp_path / "again.jsonl"
    other = tmp_path / "other.jsonl"
    records = world.split("full")
    stats_again = augment(records, world.general, "template", again, config=FAST, progress=False)
    augment(records, world.general, "template", other, seed=1, config=FAST, progress=False)
    assert first.read_bytes() == again.read_bytes()
    assert stats["values"] == stats_again["values"]
    assert first.read_bytes() != other.read_bytes()
