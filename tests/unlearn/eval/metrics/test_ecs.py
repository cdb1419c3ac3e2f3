"""Entity coverage (ECS): question overlap dropped, (predicted, gold) pairs over gold entities,
the cosine threshold."""

from __future__ import annotations

import math

import numpy as np

from unlearn.eval.metrics.ecs import drop_question_overlap, entity_coverage


def one_hot(texts: list[str]) -> np.ndarray:
    """A fake embedding: one axis per lower-cased string, so only equal strings match."""
    vocabulary = sorted({t.lower() for t in texts})
    return np.stack([np.eye(len(vocabulary))[vocabulary.index(t.lower())] for t in texts])


def test_question_overlap_drops_content_words_but_not_articles():
    question = "What is the title of the first book by Ada Byrne?"
    kept = drop_question_overlap(
        question, ["The Silent Lantern", "Ada Byrne", "Byrne", "book binder"]
    )
    assert kept == ["The Silent Lantern"]


def test_entity_coverage_counts_pairs_over_gold_entities():
    question = "Where was Ada born?"
    full = entity_coverage(question, ["Paris", "Lyon"], ["Paris", "France"], one_hot)
    assert (full.score, full.matches) == (0.5, 1)
    # predicted entities that share a word with the question are dropped before matching
    dropped = entity_coverage(question, ["Ada Paris"], ["Ada Paris"], one_hot)
    assert dropped.score == 0.0 and dropped.predicted == []
    assert entity_coverage(question, [], ["Paris"], one_hot).score == 0.0
    assert entity_coverage(question, ["Paris"], [], one_hot).score == 0.0
    # pairs, as in the reference: two predicted spellings of one gold entity count twice
    assert entity_coverage(question, ["Paris", "paris"], ["Paris"], one_hot).score == 2.0


def test_entity_coverage_threshold_on_cosine():
    def embed(texts: list[str]) -> np.ndarray:
        angle = {"a": 0.0, "b": math.acos(0.85), "c": math.acos(0.75)}
        return np.array([[math.cos(angle[t]), math.sin(angle[t])] for t in texts])

    assert entity_coverage("q", ["b"], ["a"], embed).score == 1.0  # cos 0.85 >= 0.8
    assert entity_coverage("q", ["c"], ["a"], embed).score == 0.0  # cos 0.75 < 0.8
