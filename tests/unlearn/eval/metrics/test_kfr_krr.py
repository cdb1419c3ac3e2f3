"""The KFR and KRR item rules."""

from __future__ import annotations

from unlearn.eval.metrics.kfr_krr import Thresholds, is_forgotten, is_retained


def test_kfr_item_rules():
    th = Thresholds()
    assert is_forgotten("contradiction", 1.0, 1, th)  # contradiction forgets whatever the ECS
    assert is_forgotten("neutral", 0.5, 3, th)  # <= 3 gold entities: t = 0.5
    assert not is_forgotten("neutral", 0.6, 3, th)
    assert not is_forgotten("neutral", 0.4, 4, th)  # > 3 gold entities: t = theta1 = 0.3
    assert is_forgotten("entailment", 0.25, 4, th)


def test_krr_item_rules():
    th = Thresholds()
    assert is_retained("entailment", 0.3, th)
    assert is_retained("neutral", 1.0, th)
    assert not is_retained("contradiction", 1.0, th)
    assert not is_retained("entailment", 0.29, th)
