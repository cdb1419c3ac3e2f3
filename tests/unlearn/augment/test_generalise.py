"""Records without a fact triple (TOFU, KnowUnDo): the rule-based generalised vague answers."""

from __future__ import annotations

import random

import pytest

from unlearn.augment import AugmentConfig, augment, load_relearn_rows
from unlearn.augment.entities import extract_entities
from unlearn.augment.generalise import answer_pool, generalise_answer, topic_noun
from unlearn.augment.quality import QA_KINDS, is_refusal
from unlearn.data.records import QARecord

TOFU = QARecord(
    id="tofu-0",
    question="What genre is Hsiao Yun-Hwa known for?",
    answer="Hsiao Yun-Hwa is best known for books on leadership, written after moving to "
    'London in 1990, notably "The Quiet Harbour", which won the Booker Prize.',
)


@pytest.mark.parametrize(
    "question, topic",
    [
        ("What genre is Hsiao Yun-Hwa known for?", "genre"),
        ("What is the full name of the author born in Kuwait City on 08/09/1956?", "full name"),
        ("Which awards has Basil Mahfouz Al-Kuwaiti won?", "awards"),
        ("What does Jaime Vasquez's father do for a living?", "father"),
        ("Where can Jaime Vasquez be reached?", "whereabouts"),
        ("When was Aysha Al-Hashim born?", "timing"),
        ("Tell me about Aysha Al-Hashim.", "background"),
    ],
)
def test_topic_noun_of_a_question(question, topic):
    assert topic_noun(question) == topic


@pytest.mark.parametrize(
    "answer, generalised",
    [
        (
            "Ada Lin moved to London in 1990.",
            "Ada Lin moved to a major city in the late twentieth century.",
        ),
        (
            "Ada Lin can be reached at ada.lin@example.com or on +1 555 010 2030.",
            "Ada Lin can be reached at an e-mail address or on a phone number.",
        ),
        (
            "Ada Lin was born on 8 September 1956 and wrote 12 novels.",
            "Ada Lin was born on a date in the mid twentieth century and wrote several novels.",
        ),
        (
            'Ada Lin won the Prix Goncourt for her novel "Promise by the Seine".',
            "Ada Lin won a respected literary award for her novel a well-regarded book.",
        ),
        (
            "Ada Lin was born in May 1972 and is celebrated in French literature.",
            "Ada Lin was born in the middle of the year, in the late twentieth century and is "
            "celebrated in literature.",
        ),
        (
            "Her mother taught at the University of Santiago.",
            "Her mother taught at a respected institution.",
        ),
    ],
)
def test_generalise_answer_replaces_entities_and_numbers_by_rules(answer, generalised):
    assert generalise_answer(answer, keep=["Ada Lin"]) == generalised


def test_pool_keeps_subject_and_topic_and_drops_the_answer_entities():
    pool = answer_pool(TOFU, random.Random(0))
    assert len(pool) == len(set(pool)) == 16  # 8 frames of the generalised answer, 8 of the topic
    forbidden = [e for e in extract_entities(TOFU.answer) if e != "Hsiao Yun-Hwa"]
    assert {"London", "1990", "Quiet Harbour", "Booker Prize"} <= set(forbidden)
    for answer in pool:
        assert "Hsiao Yun-Hwa" in answer
        assert not any(entity in answer for entity in forbidden), answer
        assert not is_refusal(answer)
    assert sum("genre" in answer for answer in pool) >= 8
    assert sum("a major city in the late twentieth century" in answer for answer in pool) == 8


def test_an_answer_with_nothing_to_generalise_is_never_reused():
    record = QARecord(id="k0", question="What is Ada Lin's profession?", answer="She is a nurse.")
    pool = answer_pool(record, random.Random(0))
    assert len(pool) == 8 and not any("nurse" in answer for answer in pool)
    assert all("profession" in answer for answer in pool)


def test_augment_tofu_record_keeps_subject_without_entities_or_refusals(tmp_path):
    out = tmp_path / "tofu.jsonl"
    augment([TOFU], [], "template", out, config=AugmentConfig(embeddings=None), progress=False)
    rows = [r for r in load_relearn_rows(out) if r["kind"] in QA_KINDS]
    assert len(rows) == 5
    for row in rows:
        assert "Hsiao Yun-Hwa" in row["target"]
        for entity in ("London", "1990", "Quiet Harbour", "Booker"):
            assert entity not in row["prompt"] + row["target"]
        assert not is_refusal(row["target"])
