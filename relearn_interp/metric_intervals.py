"""Bootstrap CIs on every number of the metrics table, from the per-fact rows of `unlearn eval`.

Every checkpoint was scored on the same facts, so one resample of fact indices (per set) serves
every checkpoint: method differences are paired. LS is not a mean of per-fact values (it squashes
the set means of PPL, Brunet's W and Honoré's R), so it is bootstrapped as a statistic of the three
per-fact columns, through `unlearn.eval.metrics.linguistic`'s formula.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from relearn_interp.statistics import Estimate, bootstrap, unit_mean
from unlearn.eval.metrics.linguistic import linguistic_score
from unlearn.eval.scoring import FORGET, PARAPHRASED, RETAIN

Statistic = Callable[[np.ndarray], np.ndarray]


def ls_from_columns(columns: np.ndarray) -> np.ndarray:
    """LS from [..., 3, n] columns (PPL, Brunet W, Honoré R per answer): the set means (PPL over
    finite values; NaN for a resample whose answers all lack a PPL) through the one formula,
    `unlearn.eval.metrics.linguistic.linguistic_score`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN resamples give NaN, on purpose
        ppl = np.nanmean(columns[..., 0, :], axis=-1)
    brunet = columns[..., 1, :].mean(axis=-1)
    honore = columns[..., 2, :].mean(axis=-1)
    return linguistic_score(ppl, brunet, honore).arithmetic


@dataclass(frozen=True)
class Metric:
    """One column of the metrics table: which set's rows, which fields, and the statistic."""

    key: str  # "set.name" as in `unlearn compare` (forget.KFR, retain.LS, ...)
    label: str
    set_name: str
    fields: tuple[str, ...]
    higher_is_better: bool
    statistic: Statistic = unit_mean
    proportion: bool = False  # per-fact 0/1 outcomes: a Wilson interval


METRICS: tuple[Metric, ...] = (
    Metric("forget.KFR", "KFR (forget) ↑", FORGET, ("forgotten",), True, proportion=True),
    Metric(
        "forget.fact_recall", "recall (forget) ↓", FORGET, ("recalled",), False, proportion=True
    ),
    Metric(
        "forget_paraphrased.fact_recall",
        "recall (paraphrased forget) ↓",
        PARAPHRASED,
        ("recalled",),
        False,
        proportion=True,
    ),
    Metric(
        "forget.fact_recall_exact",
        "exact recall (forget) ↓",
        FORGET,
        ("recalled_exact",),
        False,
        proportion=True,
    ),
    Metric("retain.KRR", "KRR (held-out retain) ↑", RETAIN, ("retained",), True, proportion=True),
    Metric(
        "retain.fact_recall",
        "recall (held-out retain) ↑",
        RETAIN,
        ("recalled",),
        True,
        proportion=True,
    ),
    Metric(
        "retain.LS", "LS (retain) ↑", RETAIN, ("ppl", "brunet", "honore"), True, ls_from_columns
    ),
    Metric(
        "forget.LS", "LS (forget) ↑", FORGET, ("ppl", "brunet", "honore"), True, ls_from_columns
    ),
    Metric("retain.fluency_proxy", "fluency proxy (retain) ↑", RETAIN, ("fluency_proxy",), True),
    Metric(
        "retain.relevance_proxy", "relevance proxy (retain) ↑", RETAIN, ("relevance_proxy",), True
    ),
)


def _value(item: dict, field: str) -> float:
    value = item.get(field)
    return float("nan") if value is None else float(value)


def columns(results: dict, metric: Metric) -> np.ndarray | None:
    """The metric's per-fact values ([n], or [k, n] for several fields), ordered by item id;
    None when the results lack that set or field."""
    items = results.get("items", {}).get(metric.set_name)
    if not items or any(field not in items[0] for field in metric.fields):
        return None
    ordered = sorted(items, key=lambda item: item["id"])
    rows = [[_value(item, field) for item in ordered] for field in metric.fields]
    return np.asarray(rows[0] if len(rows) == 1 else rows, dtype=float)


def metric_estimates(evals: dict[str, dict], seed: int = 0) -> dict[str, dict[str, Estimate]]:
    """label -> metric key -> estimate with its 95% CI (one shared resample per set)."""
    table: dict[str, dict[str, Estimate]] = {}
    for label, results in evals.items():
        table[label] = {}
        for metric in METRICS:
            values = columns(results, metric)
            if values is not None and not np.isnan(values).all():
                table[label][metric.key] = bootstrap(
                    values, metric.statistic, seed=seed, proportion=metric.proportion
                )
    return table


def precision_rows(results: dict, precision: str) -> dict[str, float] | None:
    """id -> forgotten (0/1) on the forget set with the weights rounded to `precision`."""
    items = results.get("items", {}).get("robustness", {}).get(precision, {}).get(FORGET)
    if not items:
        return None
    return {item["id"]: float(item["forgotten"]) for item in items}
