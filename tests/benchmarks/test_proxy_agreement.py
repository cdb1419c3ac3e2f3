"""The proxy-versus-kb agreement study (benchmarks/proxy_agreement.py) on a small benchmark."""

from __future__ import annotations

import pytest

from benchmarks.proxy_agreement import agreement
from unlearn.data.benchmark import build_world
from unlearn.eval.metrics.kfr_krr import CONTRADICTION, ENTAILMENT


@pytest.mark.integration
def test_proxies_agree_with_the_kb_on_a_small_benchmark(embedder):
    records = build_world(2, seed=5).records
    result = agreement(records, [], embedder)
    per_label = result["nli"]["per_kb_label"]
    assert per_label[ENTAILMENT]["rate"] == 1.0 and per_label[ENTAILMENT]["n"] == len(records)
    assert per_label[CONTRADICTION]["rate"] >= 0.9
    assert result["nli"]["overall"]["rate"] >= 0.9
    assert result["entities"]["kb_entities_found"]["rate"] >= 0.9
    assert set(result["nli"]["by_source"]) == {"paraphrased", "perturbed", "other_fact", "vague"}
