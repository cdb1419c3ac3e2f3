"""Rule-based verification of every candidate, for every backend (the LLM check comes on top).

A candidate is rejected, with a reason, when it is missing or unparsable (`malformed`), repeats
the original question (`unchanged`) or an earlier candidate (`duplicate`), contains an entity of
the forgotten subject (`entity_leak`), an e-mail, phone number or full date that the original
question does not already give (`pii`), or, for benchmark records, no longer names the subject
(`subject_missing`; ReLearn keeps the subject).
"""

from __future__ import annotations

import re
from collections import defaultdict

from unlearn.augment.entities import Entity, forbidden_entities, leaked, pii_spans
from unlearn.data.records import QARecord


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class Verifier:
    """Knows, for each forget record, which entities its variants must not contain."""

    def __init__(self, forget_records: list[QARecord]) -> None:
        subject_objects: dict[str, set[str]] = defaultdict(set)
        for record in forget_records:
            if record.fact is not None:
                subject_objects[record.fact.subject].add(record.fact.object)
        self.entities: dict[str, list[Entity]] = {
            record.id: forbidden_entities(record, subject_objects) for record in forget_records
        }

    def leaks(self, record: QARecord, text: str) -> list[str]:
        return leaked(text, self.entities[record.id])

    def problem(self, record: QARecord, text: str | None) -> str | None:
        """The reason to reject `text` as a variant about `record`, or None if it passes."""
        if not text or not text.strip():
            return "malformed"
        if self.leaks(record, text):
            return "entity_leak"
        if any(span not in record.question for span in pii_spans(text)):
            return "pii"
        if record.fact is not None and not _names_subject(text, record.fact.subject):
            return "subject_missing"
        return None


def _names_subject(text: str, subject: str) -> bool:
    """Any part of the subject's name (3+ letters) counts: "Ms Varo" still keeps "Ilsa Varo"."""
    parts = [part for part in subject.split() if len(part) >= 3] or [subject]
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(part.lower())}\b", lowered) for part in parts)
