"""Verification (entity leaks, PII, subject kept, regeneration)."""

from __future__ import annotations

import pytest

from unlearn.augment import AugmentConfig, augment, load_relearn_rows
from unlearn.augment.backends import AnswerJob, Backend, CheckJob, QuestionJob
from unlearn.augment.entities import extract_entities, object_entities
from unlearn.augment.verify import Verifier
from unlearn.data.records import Fact, QARecord
from unlearn.errors import UserError


def _record(
    relation: str, obj: str, object_type: str, rid: str = "r0", subject: str = "Ilsa Varo"
) -> QARecord:
    return QARecord(
        id=rid,
        question=f"What is the {relation} of {subject}?",
        answer=f"The {relation} of {subject} is {obj}.",
        fact=Fact(subject, relation, obj, object_type),
    )


def test_object_pieces_cover_years_titles_and_places_but_not_generic_words():
    texts = [e.text for e in object_entities("3 March 1950", "Ilsa Varo")]
    assert texts == ["3 March 1950", "March", "1950"]
    texts = [e.text for e in object_entities("The Silent Lantern", "Ilsa Varo")]
    assert texts == ["The Silent Lantern", "Silent", "Lantern"]
    texts = [e.text for e in object_entities("Bazor Prize for Fiction", "Ilsa Varo")]
    assert texts == ["Bazor Prize for Fiction", "Bazor"]
    texts = [e.text for e in object_entities("ilsa.varo12@quillmail.org", "Ilsa Varo")]
    assert texts == ["ilsa.varo12@quillmail.org", "varo12", "quillmail"]
    (may,) = [e for e in object_entities("4 May 1960", "Ilsa Varo") if e.text == "May"]
    assert may.found_in("born in May") and not may.found_in("she may say")


def test_verifier_rejects_any_object_of_the_same_author():
    birthplace = _record("birthplace", "Bazorford", "city", "r0")
    book = _record("first book", "The Silent Lantern", "book", "r1")
    other = _record("birthplace", "Quellmont", "city", "r2", subject="Tam Oru")
    verifier = Verifier([birthplace, book, other])
    assert verifier.problem(birthplace, "Ilsa Varo was born in a small town.") is None
    assert verifier.problem(birthplace, "Ilsa Varo was born in Bazorford.") == "entity_leak"
    assert (
        verifier.problem(birthplace, "Ilsa Varo wrote a book about a lantern, nothing Silent.")
        == "entity_leak"
    )
    assert (
        verifier.problem(birthplace, "Ilsa Varo grew up near Quellmont.") is None
    )  # another author's fact
    assert verifier.problem(birthplace, "Write to ilsa@mail.com, Ilsa Varo says.") == "pii"
    assert verifier.problem(birthplace, "The writer was born in a small town.") == "subject_missing"
    assert (
        verifier.problem(birthplace, "   ") == "malformed"
        and verifier.problem(birthplace, None) == "malformed"
    )


def test_extractor_finds_names_numbers_dates_and_skips_sentence_starts():
    text = (
        "Although born in Kuwait City on 8 September 1956, Basil Al-Kuwaiti moved to Paris. "
        "He wrote 3 novels. Reach him at basil@example.org."
    )
    found = extract_entities(text)
    for entity in (
        "Kuwait City",
        "8 September 1956",
        "1956",
        "Basil Al-Kuwaiti",
        "Paris",
        "3",
        "basil@example.org",
    ):
        assert entity in found
    assert "Although" not in found and "He" not in found


class LeakyFirstBackend(Backend):
    """Leaks the object on the first attempt, is vague on the second; judges everything safe."""

    name = "leaky"
    llm_check = True

    def question_variants(self, jobs: list[QuestionJob]) -> list[str | None]:
        return [
            None
            if job.attempt == 0 and job.kind == "noisy"
            else f"{job.kind} {job.attempt}: where is {job.record.fact.subject} from?"
            for job in jobs
        ]

    def vague_answers(self, jobs: list[AnswerJob]) -> list[str | None]:
        return [
            f"{job.record.fact.subject} was born in {job.record.fact.object}."
            if job.attempt == 0
            else f"{job.record.fact.subject} was born somewhere ({job.slot})."
            for job in jobs
        ]

    def leak_checks(self, jobs: list[CheckJob]) -> list[bool | None]:
        return [None if job.attempt == 1 and i == 0 else False for i, job in enumerate(jobs)]

    def describe(self) -> dict:
        return {"name": self.name}


def test_rejected_candidates_are_counted_and_regenerated(tmp_path):
    records = [_record("birthplace", "Bazorford", "city", f"r{i}") for i in range(2)]
    stats = augment(
        records,
        [],
        LeakyFirstBackend(),
        tmp_path / "r.jsonl",
        progress=False,
        config=AugmentConfig(rounds=3),
    )
    totals = stats["values"]["totals"]
    assert totals["rejected"]["malformed"] == 2  # the noisy question, once per record
    assert totals["rejected"]["entity_leak"] == 10  # every first answer: 5 per record
    assert totals["rejected"]["check_malformed"] == 1
    assert totals["regenerated"] == 2 + 10 + 1 and totals["dropped"] == 0
    assert totals["llm_checks"] == 11
    rows = load_relearn_rows(tmp_path / "r.jsonl")
    assert rows and not any("Bazorford" in row["target"] for row in rows)
    assert stats["values"]["rejection_examples"][2]["leaked"] == ["Bazorford"]


def test_nothing_kept_is_an_error_with_statistics_written(tmp_path):
    records = [_record("birthplace", "Bazorford", "city")]
    with pytest.raises(UserError, match="no augmented row survived"):
        augment(
            records,
            [],
            LeakyFirstBackend(),
            tmp_path / "r.jsonl",
            progress=False,
            config=AugmentConfig(rounds=1),
        )
    assert not (tmp_path / "r.jsonl").exists() and (tmp_path / "r.jsonl.stats.json").is_file()
