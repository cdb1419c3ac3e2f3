"""The one record type every loader returns, and its JSON form (TOFU field names)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fact:
    """A fact triple with the type of its object (city, date, e-mail, ...)."""

    subject: str
    relation: str
    object: str
    object_type: str


@dataclass
class QARecord:
    """One question/answer pair, TOFU-style, with an optional fact triple beside it.

    `paraphrased_*` and `perturbed_answer` follow TOFU; `fact` lets metrics check entities
    exactly and lets circuit analysis build clean/corrupted prompt pairs.
    """

    id: str
    question: str
    answer: str
    paraphrased_question: str | None = None
    paraphrased_answer: str | None = None
    perturbed_answer: list[str] = field(default_factory=list)
    fact: Fact | None = None
    source: str = "ours"

    @property
    def answer_prefix(self) -> str | None:
        """The answer up to (not including) the fact's object: the cloze prompt for circuits."""
        if self.fact is None or self.fact.object not in self.answer:
            return None
        return self.answer[: self.answer.index(self.fact.object)]

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["fact"] = asdict(self.fact) if self.fact else None
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> QARecord:
        fact = row.get("fact")
        perturbed = row.get("perturbed_answer") or []
        if isinstance(perturbed, str):
            perturbed = [perturbed]
        return cls(
            id=str(row["id"]),
            question=row["question"],
            answer=row["answer"],
            paraphrased_question=row.get("paraphrased_question"),
            paraphrased_answer=row.get("paraphrased_answer"),
            perturbed_answer=list(perturbed),
            fact=Fact(**fact) if fact else None,
            source=row.get("source", "ours"),
        )
