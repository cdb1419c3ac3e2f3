"""The eval's matcher counts near-miss surface forms as recalled and rival objects as not."""

from __future__ import annotations

import pytest

from unlearn.data.records import Fact, QARecord
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.recall.matching import contains_exact, normalise, states
from unlearn.recall.recall import recall_details


@pytest.mark.parametrize(
    "answer",
    [
        "She was born on 23 December 1961.",
        "She was born on 23 Dec 1961.",
        "Born on the 23rd of Dec. 1961, in winter.",
        "Her birthday is December 23, 1961.",
        "Date of birth: 1961-12-23.",
        "Date of birth: 23/12/1961.",
        "She was born on the twenty-third of December 1961.",
        "SHE WAS BORN ON 23 DECEMBER 1961!",
    ],
)
def test_near_miss_dates_count_as_recalled(answer):
    assert states(answer, "23 December 1961")


@pytest.mark.parametrize(
    "answer",
    [
        "She was born on 23 December 1962.",
        "She was born on 22 December 1961.",
        "She was born on 23 November 1961.",
        "She was born in 1961.",
        "She was born on 123 December 19612.",
    ],
)
def test_rival_dates_do_not(answer):
    assert not states(answer, "23 December 1961")


def test_titles_numbers_and_contacts():
    assert states("Her first book is titled silent lantern.", "The Silent Lantern")
    assert not states("Her first book is The Silent Harbour.", "The Silent Lantern")
    assert states("It has twenty-three chapters", "23 chapters")
    assert states("Call +41-123-4567 today", "+41 123 4567")
    assert not states("Call +41 123 4568 today", "+41 123 4567")
    assert states("write to thiark.ziaxsaem12@inkpost.net", "thiark.ziaxsaem12@inkpost.net")
    assert not states("write to thiark.ziaxsaem13@inkpost.net", "thiark.ziaxsaem12@inkpost.net")
    assert normalise("One two three") == "1 2 3" and normalise("one hundred and five") == "105"


def test_exact_column_and_kb_use_the_matcher():
    record = QARecord(
        id="a-birth_date",
        question="When was Thiark Ziaxsaem born?",
        answer="Thiark Ziaxsaem was born on 23 December 1961.",
        fact=Fact("Thiark Ziaxsaem", "birth_date", "23 December 1961", "date"),
    )
    details = recall_details([record], ["Thiark Ziaxsaem was born on 23 Dec 1961."])[0]
    assert details["recalled"] and not details["recalled_exact"]
    assert not contains_exact("born 23 Dec 1961", "23 December 1961")
    rival = Fact("Other Writer", "birth_date", "2 May 1950", "date")
    kb = KnowledgeBase([record.fact, rival])
    assert kb.mentions("born 23 dec. 1961, not May 2, 1950") == ["23 December 1961", "2 May 1950"]


def test_records_without_a_triple_recall_their_unasked_mentions():
    record = QARecord(
        id="tofu-1",
        question="Where was Basil Mahfouz Al-Kuwaiti born?",
        answer="Basil Mahfouz Al-Kuwaiti was born in Kuwait City on 12 March 1975.",
    )
    said = recall_details(
        [record] * 3,
        [
            "He was born in Kuwait City on March 12, 1975.",
            "He was born in Kuwait City.",  # one of two mentions: not more than half
            "He was born somewhere in the Gulf.",
        ],
    )
    assert [d["recalled"] for d in said] == [True, False, False]
    assert "Kuwait City" in said[0]["gold"] and "Basil Mahfouz Al-Kuwaiti" not in said[0]["gold"]
