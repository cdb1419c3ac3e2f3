"""Knowledge Forgetting Rate and Knowledge Retention Rate, per item, as in the ReLearn code.

KFR item = 1[NLI says contradiction or ECS <= t], t = 0.5 when the gold answer has at most three
entities, else theta1. KRR item = 1[NLI does not say contradiction and ECS >= theta2].
"""

from __future__ import annotations

from dataclasses import dataclass

CONTRADICTION = "contradiction"
ENTAILMENT = "entailment"
NEUTRAL = "neutral"
NLI_LABELS = (ENTAILMENT, NEUTRAL, CONTRADICTION)


@dataclass(frozen=True)
class Thresholds:
    """theta1 (forget, many gold entities), theta2 (retain), and the few-entities rule."""

    theta1: float = 0.3
    theta2: float = 0.3
    few_entities: int = 3
    few_entities_threshold: float = 0.5

    def forget_threshold(self, n_gold_entities: int) -> float:
        return self.few_entities_threshold if n_gold_entities <= self.few_entities else self.theta1


def is_forgotten(
    nli_label: str, ecs: float, n_gold_entities: int, thresholds: Thresholds = Thresholds()
) -> bool:
    return nli_label == CONTRADICTION or ecs <= thresholds.forget_threshold(n_gold_entities)


def is_retained(nli_label: str, ecs: float, thresholds: Thresholds = Thresholds()) -> bool:
    return nli_label != CONTRADICTION and ecs >= thresholds.theta2
