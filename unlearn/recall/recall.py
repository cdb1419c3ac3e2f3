"""Fact recall: the greedy answer states the gold object, in any usual surface form
(`unlearn.recall.matching`); exact-string recall is kept beside it.

Records without a fact triple (TOFU, KnowUnDo) have no single object: their gold mentions are the
named entities, numbers and dates of the gold answer that the question does not already state
(the rule-based mentions of `unlearn.recall.mentions`), and an answer recalls the record
when it states more than half of them (the whole gold answer when it has none).
"""

from __future__ import annotations

from collections.abc import Callable

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.recall.generation import GenerationConfig, generate_answers
from unlearn.recall.matching import contains_exact, states
from unlearn.recall.mentions import unasked_mentions

MATCHER = (
    "the gold object is stated in the answer after normalising case, punctuation, articles, "
    "number words and date formats (records without a triple: more than half of the gold "
    "answer's unasked entities, numbers and dates, found by rules); exact-string recall: "
    "fact_recall_exact"
)


def gold_mentions(record: QARecord) -> list[str]:
    """What recall looks for: the fact's object; without a triple, the gold answer's unasked
    mentions (or the whole answer when it has none)."""
    if record.fact:
        return [record.fact.object]
    found = list(dict.fromkeys(m.text for m in unasked_mentions(record.question, record.answer)))
    return found or [record.answer]


def _recalled(answer: str, golds: list[str], test: Callable[[str, str], bool]) -> bool:
    return sum(test(answer, gold) for gold in golds) > len(golds) / 2


def recalls(answer: str, record: QARecord) -> bool:
    """The eval's matcher: the answer states the gold object in some usual surface form."""
    return _recalled(answer, gold_mentions(record), states)


def recalls_exact(answer: str, record: QARecord) -> bool:
    """The exact-string matcher (case-insensitive substring)."""
    return _recalled(answer, gold_mentions(record), contains_exact)


def recall_details(records: list[QARecord], answers: list[str]) -> list[dict]:
    """Per-record recall under both matchers."""
    return [
        {
            "id": r.id,
            "question": r.question,
            "gold": gold_mentions(r),
            "generated": a,
            "recalled": recalls(a, r),
            "recalled_exact": recalls_exact(a, r),
        }
        for r, a in zip(records, answers, strict=True)
    ]


def fact_recall(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    config: GenerationConfig = GenerationConfig(),
    progress: bool = True,
    questions: list[str] | None = None,
) -> tuple[float, list[dict]]:
    """Share of records whose greedy answer states the gold object, with per-item details
    (`questions` replaces the records' own, e.g. by their paraphrases)."""
    answers = generate_answers(
        model,
        tokenizer,
        questions or [r.question for r in records],
        config,
        progress,
        desc="recall",
    )
    details = recall_details(records, answers)
    return sum(d["recalled"] for d in details) / max(1, len(details)), details
