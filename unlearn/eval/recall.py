"""Exact-fact recall: the greedy answer contains the gold object (case-insensitive)."""

from __future__ import annotations

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.eval.generate import GenerationConfig, generate_answers


def contains_object(answer: str, record: QARecord) -> bool:
    gold = record.fact.object if record.fact else record.answer
    return gold.lower() in answer.lower()


def fact_recall(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    config: GenerationConfig = GenerationConfig(),
    progress: bool = True,
) -> tuple[float, list[dict]]:
    """Fraction of records whose greedy answer states the gold object, with per-item details."""
    answers = generate_answers(
        model, tokenizer, [r.question for r in records], config, progress, desc="recall"
    )
    details = [
        {
            "id": r.id,
            "question": r.question,
            "gold": r.fact.object if r.fact else r.answer,
            "generated": a,
            "recalled": contains_object(a, r),
        }
        for r, a in zip(records, answers, strict=True)
    ]
    score = sum(d["recalled"] for d in details) / max(1, len(details))
    return score, details
