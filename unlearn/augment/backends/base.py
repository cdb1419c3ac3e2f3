"""What every augmentation backend does: question variants, vague answers, optionally a leak check.

The pipeline calls a backend with batches of jobs and verifies every reply itself; a backend
returns None for a reply it could not parse (counted as malformed and regenerated).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from unlearn.data.records import QARecord

# ReLearn's four question augmentations.
QUESTION_KINDS = ("rephrased", "context", "noisy", "reversed")


@dataclass(frozen=True)
class QuestionJob:
    """Ask for variant `slot` (of `n_slots`) of `kind` for `record`; `attempt` > 0 is a regeneration."""

    record: QARecord
    kind: str
    slot: int
    n_slots: int
    attempt: int


@dataclass(frozen=True)
class AnswerJob:
    """Ask for vague answer `slot` (of the record's `n_slots`) to `question` (original or a variant)."""

    record: QARecord
    question: str
    slot: int
    n_slots: int
    attempt: int


@dataclass(frozen=True)
class CheckJob:
    """Ask whether `text` (a candidate answer about `record`) leaks private information."""

    record: QARecord
    text: str
    attempt: int


class Backend(ABC):
    """A source of question variants and vague answers; `llm_check` says it can judge leaks."""

    name: str = "backend"
    generator: str = "LLM"  # what writes the answers, as named in every output that carries them
    llm_check: bool = False
    progress: bool = True  # show progress bars for long calls (the pipeline sets it)

    @abstractmethod
    def question_variants(self, jobs: list[QuestionJob]) -> list[str | None]:
        """One question per job, or None where the reply held no parsable question."""

    @abstractmethod
    def vague_answers(self, jobs: list[AnswerJob]) -> list[str | None]:
        """One vague answer per job, or None where the reply held no parsable answer."""

    def leak_checks(self, jobs: list[CheckJob]) -> list[bool | None]:
        """True = leaks, False = safe, None = the verdict could not be parsed."""
        raise NotImplementedError(f"backend {self.name} has no LLM leak check")

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Settings recorded in the statistics (never a secret)."""
