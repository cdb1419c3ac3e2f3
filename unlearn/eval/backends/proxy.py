"""Offline proxies for the paper's entity extractor and NLI model, for records without triples.

Real TOFU and KnowUnDo records carry no fact triple, so the kb backends cannot score them and the
paper's backends (a DeepSeek extractor, DeBERTa NLI) need a model this machine may not have.
These proxies need only rules and the bundled MiniLM embedder:

- `ProxyEntities`: the rule-based mentions of `proxy_rules` (names, numbers, dates, addresses,
  e-mails, phones, quoted titles; content phrases when there are none), minus what the question
  already states.
- `ProxyNLI`: the gold answer's mentions are looked for in the generated answer. All stated (and
  the answers not unrelated) is entailment; a missing mention whose slot another mention of the
  same kind fills is contradiction; otherwise neutral. With no mention to look for, embedding
  similarity alone decides between entailment and neutral. The check is the same in both
  directions (forget and retain), as for the kb NLI.

Known biases: a rival of the same kind is a contradiction even when both could be true (a city
and its country are both "names"); a paraphrase that rewords a lower-case phrase ("developed
games" for "game developer") is neutral unless its embedding is close.
"""

from __future__ import annotations

import numpy as np

from unlearn.data.records import QARecord
from unlearn.embeddings import DEFAULT_EMBEDDINGS, Embedder
from unlearn.eval.metrics.ecs import MATCH_THRESHOLD
from unlearn.eval.metrics.kfr_krr import CONTRADICTION, ENTAILMENT, NEUTRAL
from unlearn.recall.matching import states
from unlearn.recall.mentions import (
    PHRASE,
    Mention,
    mentions,
    new_mentions,
    phrases,
    question_words,
    slot_before,
    unasked_mentions,
)

# Set before the agreement with the kb backends was measured (docs/eval.md), not tuned on it.
ENTAIL_SIMILARITY = 0.8  # answers with no mention to check: entailment at this cosine or above
RELATED_SIMILARITY = 0.3  # every mention stated, yet the answers this far apart: neutral
KEYED_KINDS = frozenset(("date", "phone", "number", "email"))
NO_TRIPLES = "; used because the data has no fact triples for the kb backend"


class ProxyEntities:
    """Rule-based entities (no model), standing in for the paper's LLM extractor."""

    def __init__(self, reason: str = "") -> None:
        self.name = (
            "proxy (rules: names, numbers, dates, addresses, e-mails, phones, quoted titles, or "
            "content phrases when none, minus the question's; stands in for the paper's DeepSeek "
            "extractor; misses lower-case entities beside a named one)" + reason
        )

    def extract(self, questions: list[str], texts: list[str]) -> list[list[str]]:
        return [
            [m.text for m in new_mentions(question, text)]
            for question, text in zip(questions, texts, strict=True)
        ]


def overlaps(a: str, b: str) -> bool:
    """One key holds the other as whole words ("poe award" in "edgar allan poe award")."""
    return f" {a} " in f" {b} " or f" {b} " in f" {a} "


class ProxyNLI:
    """Entity containment plus MiniLM similarity, standing in for DeBERTa NLI."""

    def __init__(
        self, embed: Embedder | None = None, device: str | None = None, reason: str = ""
    ) -> None:
        self.embed = embed or Embedder(DEFAULT_EMBEDDINGS, device=device)
        self.name = (
            "proxy (gold-answer mentions stated -> entailment, another of the same kind in their "
            "place -> contradiction, else neutral; embedding cosine when there is no mention to "
            "check; stands in for deberta-v3-base-tasksource-nli; over-calls contradiction when "
            "an answer adds other names)" + reason
        )

    def _cosine(self, a: str, b: str) -> float:
        vectors = self.embed([a, b])
        return float(np.dot(vectors[0], vectors[1]))

    def _stated(
        self, text: str, found: list[Mention], answer: list[Mention], gold: Mention
    ) -> bool:
        """The generated text states a gold mention: same key (dates, numbers, phones, e-mails),
        the same words after normalising, or (phrases) an embedding match as in ECS."""
        if gold.kind in KEYED_KINDS and any(m.key == gold.key for m in found):
            return True
        if states(text, gold.text):
            return True
        return gold.kind == PHRASE and any(
            self._cosine(m.text, gold.text) >= MATCH_THRESHOLD for m in answer
        )

    @staticmethod
    def _fills_slot(
        candidate: Mention, gold: Mention, golds: list[Mention], generated: str, answer: str
    ) -> bool:
        """Another mention in the gold's place: of the same kind (typed mentions), or after the
        same two words (phrases: "worked as a [tile dyer]" for "worked as a [violin dyer]")."""
        if any(overlaps(candidate.key, g.key) for g in golds):
            return False
        if gold.kind != PHRASE:
            return candidate.kind == gold.kind
        slot = slot_before(answer, gold.text)
        return slot is not None and slot_before(generated, candidate.text) == slot

    def label(self, generated: str, record: QARecord) -> str:
        if not generated.strip():
            return NEUTRAL
        golds = new_mentions(record.question, record.answer)
        similarity = self._cosine(generated, record.answer)
        if not golds:
            return ENTAILMENT if similarity >= ENTAIL_SIMILARITY else NEUTRAL
        found = mentions(generated)
        candidates = unasked_mentions(record.question, generated)
        if any(g.kind == PHRASE for g in golds):
            candidates += phrases(generated, question_words(record.question))
        missing = [g for g in golds if not self._stated(generated, found, candidates, g)]
        if not missing:
            return ENTAILMENT if similarity >= RELATED_SIMILARITY else NEUTRAL
        if any(
            self._fills_slot(c, g, golds, generated, record.answer)
            for g in missing
            for c in candidates
        ):
            return CONTRADICTION
        return NEUTRAL

    def labels(self, generated: list[str], records: list[QARecord], forget: bool) -> list[str]:
        return [self.label(text, record) for text, record in zip(generated, records, strict=True)]
