"""Metric CIs are computed from per-fact rows and reproduce the eval's own aggregates."""

from __future__ import annotations

import math

import pytest

from relearn_interp.metric_intervals import METRICS, columns, metric_estimates
from unlearn.eval.metrics.linguistic import brunet_index, honore_statistic, linguistic_score

ANSWERS = ["The author was born in Brelford.", "", "A quiet town in the north, near the sea."]


def results() -> dict:
    retain = []
    for index, text in enumerate(ANSWERS):
        ppl = math.nan if not text else 4.0 + index
        retain.append(
            {
                "id": f"r{index}",
                "retained": index != 1,
                "ppl": None if math.isnan(ppl) else ppl,
                "brunet": brunet_index(text),
                "honore": honore_statistic(text),
            }
        )
    forget = [{"id": f"f{i}", "forgotten": i % 2 == 0, "recalled": i % 2 == 1} for i in range(4)]
    return {"items": {"retain": retain, "forget": forget}}


def test_ls_estimate_equals_the_eval_formula():
    data = results()
    estimate = metric_estimates({"m": data})["m"]["retain.LS"]
    ppls = [i["ppl"] for i in data["items"]["retain"] if i["ppl"] is not None]
    expected = linguistic_score(
        sum(ppls) / len(ppls),
        sum(i["brunet"] for i in data["items"]["retain"]) / 3,
        sum(i["honore"] for i in data["items"]["retain"]) / 3,
    ).arithmetic
    assert estimate.value == pytest.approx(expected)
    assert estimate.low <= estimate.value <= estimate.high and estimate.n == 3


def test_rates_and_missing_sets():
    estimates = metric_estimates({"m": results()})["m"]
    assert estimates["forget.KFR"].value == 0.5 and estimates["retain.KRR"].value == pytest.approx(
        2 / 3
    )
    assert "forget_paraphrased.fact_recall" not in estimates  # no such set in these results
    by_key = {m.key: m for m in METRICS}
    assert columns(results(), by_key["retain.LS"]).shape == (3, 3)
