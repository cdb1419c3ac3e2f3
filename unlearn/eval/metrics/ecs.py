"""Entity coverage score (ECS): how many gold entities the generated answer mentions.

As in the ReLearn reference code: predicted entities sharing a word with the question are dropped,
every (predicted, gold) pair whose embedding cosine is >= 0.8 counts as a match, and
ECS = matches / |gold entities| (0 when either side is empty). Matches are pairs, so ECS can exceed
1 when two predicted entities both match one gold entity, exactly as in the reference.

One deliberate difference: function words ("the", "of", ...) are ignored in the overlap test,
otherwise every book title "The ..." would be dropped for any question containing "the".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from unlearn.eval.metrics.tokens import word_tokens

MATCH_THRESHOLD = 0.8
FUNCTION_WORDS = frozenset(
    "a an the of in on at by for to from with and or is was are were be been does did do what which "
    "who whom whose where when how why".split()
)

Embed = Callable[[list[str]], Float[np.ndarray, "n dim"]]


def content_words(text: str) -> set[str]:
    return {t for t in word_tokens(text) if any(c.isalnum() for c in t)} - FUNCTION_WORDS


def drop_question_overlap(question: str, entities: list[str]) -> list[str]:
    """Entities that share no content word with the question (the reference's `filter_entities`)."""
    asked = content_words(question)
    return [entity for entity in entities if not asked & content_words(entity)]


@dataclass(frozen=True)
class Coverage:
    """ECS of one answer with what it was computed from."""

    score: float
    predicted: list[str]
    gold: list[str]
    matches: int


def count_matches(
    predicted: Float[np.ndarray, "p dim"], gold: Float[np.ndarray, "g dim"], threshold: float
) -> int:
    """Number of (predicted, gold) pairs with cosine similarity >= threshold."""
    predicted = predicted / np.linalg.norm(predicted, axis=1, keepdims=True)
    gold = gold / np.linalg.norm(gold, axis=1, keepdims=True)
    return int((predicted @ gold.T >= threshold - 1e-6).sum())


def entity_coverage(
    question: str,
    predicted: list[str],
    gold: list[str],
    embed: Embed,
    threshold: float = MATCH_THRESHOLD,
) -> Coverage:
    """ECS of an answer's entities against the gold answer's entities."""
    predicted = list(dict.fromkeys(drop_question_overlap(question, predicted)))
    gold = list(dict.fromkeys(gold))
    if not predicted or not gold:
        return Coverage(0.0, predicted, gold, 0)
    vectors = embed(predicted + gold)
    matches = count_matches(vectors[: len(predicted)], vectors[len(predicted) :], threshold)
    return Coverage(matches / len(gold), predicted, gold, matches)
