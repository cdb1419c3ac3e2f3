"""Parsing an LLM backend's replies: prefaces, labels, quotes and extra candidates are stripped."""

from __future__ import annotations

import pytest

from unlearn.augment.backends.instructions import parse_answer, parse_question, parse_verdict


@pytest.mark.parametrize(
    "reply, expected",
    [
        (
            'Sure! Here is the rephrased question:\n"Where did Ilsa Varo grow up?"',
            "Where did Ilsa Varo grow up?",
        ),
        ("Rephrased question: **Where was Ilsa Varo born?**", "Where was Ilsa Varo born?"),
        ("1. whr was ilsa varo born lol", "whr was ilsa varo born lol"),
        ("", None),
        ("???", None),
        ("Please provide only the rephrased question and nothing else.", None),
        ("The answer to the question is:", None),
    ],
)
def test_parse_question(reply, expected):
    assert parse_question(reply) == expected


def test_parse_answer_and_verdict():
    assert (
        parse_answer("Sure, here it is:\nAnswer: Ilsa Varo comes from a modest town.")
        == "Ilsa Varo comes from a modest town."
    )
    assert parse_answer("ok") is None
    assert parse_answer("The answer is: " + "the answer is " * 20) is None
    assert parse_verdict("The sentence names a city, which is private.\nFinal answer: Yes") is True
    assert (
        parse_verdict("Step 1: no private data... yes, it is general. Final Answer: **No**")
        is False
    )
    assert parse_verdict("It mentions nothing specific. No") is False
    assert parse_verdict("I cannot decide.") is None
