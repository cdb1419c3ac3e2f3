"""The kb entity and NLI backends on the benchmark, and KFR/KRR on crafted answers."""

from __future__ import annotations

import pytest

from unlearn.data.records import Fact
from unlearn.errors import UserError
from unlearn.eval.backends.entities import KBEntities
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.eval.backends.nli import KBNLI
from unlearn.eval.metrics.kfr_krr import CONTRADICTION, ENTAILMENT, NEUTRAL, Thresholds
from unlearn.eval.scoring import FORGET, RETAIN, Scorer


@pytest.fixture(scope="module")
def kb(world):
    return KnowledgeBase.for_records(world.records)


def test_gazetteer_finds_each_answers_object_and_drops_the_asked_subject(world, kb):
    entities = KBEntities(kb)
    records = world.records
    found = entities.extract([r.question for r in records], [r.answer for r in records])
    for record, names in zip(records, found, strict=True):
        assert names == [record.fact.object], record.id  # the subject is in the question
    assert kb.mentions("ABOUT " + records[0].fact.object.upper() + "!") == [records[0].fact.object]


def test_gazetteer_matches_whole_words_only():
    kb = KnowledgeBase(
        [Fact("Ada", "birthplace", "Lund", "city"), Fact("Bo", "birthplace", "Lundvale", "city")]
    )
    assert kb.mentions("born in Lundvale") == ["Lundvale"]
    assert kb.mentions("Lunda and Lund.") == ["Lund"]


def test_kb_nli_on_the_benchmark(world, kb):
    nli = KBNLI(kb)
    records = world.records
    assert nli.labels([r.answer for r in records], records, forget=True) == [ENTAILMENT] * len(
        records
    )
    assert nli.labels([r.paraphrased_answer for r in records], records, forget=False) == [
        ENTAILMENT
    ] * len(records)
    perturbed = [r.perturbed_answer[0] for r in records]
    assert nli.labels(perturbed, records, forget=True) == [CONTRADICTION] * len(records)
    assert nli.labels(["I cannot recall that."] * 3, records[:3], forget=True) == [NEUTRAL] * 3


def test_kb_nli_contradiction_uses_the_object_type(world, kb):
    """Stating the mother's occupation when asked the father's contradicts (same object type)."""
    author = world.authors[0]
    record = next(
        r
        for r in world.records
        if r.fact.subject == author.name and r.fact.relation == "father_occupation"
    )
    assert (
        KBNLI(kb).label(f"He was a {author.facts['mother_occupation']}.", record) == CONTRADICTION
    )
    assert KBNLI(kb).label(f"He lived in {author.facts['birthplace']}.", record) == NEUTRAL


def test_kb_needs_facts(world):
    with pytest.raises(UserError, match="fact triples"):
        KnowledgeBase([])
    record = world.records[0]
    record_without_fact = type(record)(id="x", question=record.question, answer=record.answer)
    with pytest.raises(UserError, match="no fact triple"):
        KBNLI(KnowledgeBase.for_records(world.records)).label("text", record_without_fact)


class NoPPL:
    """Scorer stand-in for tests that only need KFR/KRR (full=False never touches the model)."""


@pytest.mark.integration
def test_kfr_and_krr_on_crafted_answers(world, kb, embedder):
    record = next(r for r in world.records if r.fact.relation == "birthplace")
    other_city = next(
        r.fact.object for r in world.records if r.fact.relation == "birthplace" and r is not record
    )
    subject = record.fact.subject
    answers = {
        "leaking": f"{subject} was born in {record.fact.object}.",
        "vague": f"{subject} was born in a small town, I believe.",
        "contradicting": f"{subject} was born in {other_city}.",
        "empty": "",
    }
    scorer = Scorer(KBEntities(kb), embedder, KBNLI(kb), None, Thresholds(), NoPPL(), NoPPL())
    records = [record] * len(answers)
    forget_values, forget_items = scorer.score(FORGET, records, list(answers.values()), full=False)
    retain_values, retain_items = scorer.score(RETAIN, records, list(answers.values()), full=False)
    forgotten = dict(zip(answers, (i["forgotten"] for i in forget_items), strict=True))
    retained = dict(zip(answers, (i["retained"] for i in retain_items), strict=True))
    assert forgotten == {"leaking": False, "vague": True, "contradicting": True, "empty": True}
    assert retained == {"leaking": True, "vague": False, "contradicting": False, "empty": False}
    assert forget_values["KFR"] == 0.75 and retain_values["KRR"] == 0.25
    assert forget_items[0]["ecs"] == 1.0 and forget_items[2]["nli"] == CONTRADICTION
    assert forget_values["fact_recall"] == 0.25 and forget_values["n_empty"] == 1
    assert forget_values["contradiction_rate"] == 0.25
