"""Results files read back (by `unlearn compare` and the report), checked against their shape.

A hand-edited or truncated results file is refused in one line that names the file and the bad
field (`values.forget: should be an object`), instead of an AttributeError deep in a table, or a
column silently shown as "–". Only what the readers use is checked; other keys pass through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from unlearn.errors import UserError
from unlearn.io import read_json

# a metric set: numbers, plus per-metric details that the readers skip (n_*, lists, objects)
MetricSet = dict[str, Any]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class EvalMeta(_Open):
    name: str | None = None
    backends: dict[str, str | None] = {}
    warnings: list[Any] = []
    robustness: dict[str, Any] = {}
    precision: dict[str, Any] | None = None


class EvalValues(_Open):
    forget: MetricSet
    retain: MetricSet
    paraphrased: MetricSet | None = None
    robustness: dict[str, dict[str, MetricSet]] = {}


class EvalResults(_Open):
    meta: EvalMeta
    values: EvalValues


class StageResults(_Open):
    """Every analysis result (logit_lens.json, shift.json, erasure.json, circuit_diff.json)."""

    meta: dict[str, Any]
    values: dict[str, Any]


def _first_problem(err: ValidationError) -> str:
    problem = err.errors()[0]
    where = ".".join(str(part) for part in problem["loc"]) or "the top level"
    return f"{where}: {problem['msg'].lower()}"


def check_shape(data: Any, model: type[BaseModel], path: str | Path, what: str, kind: str) -> dict:
    """`data` if it has `model`'s shape, else a UserError naming the file and the first bad field."""
    try:
        model.model_validate(data)
    except ValidationError as err:
        raise UserError(
            f"{what} {path} is not {kind} ({_first_problem(err)}); restore the file or rerun the "
            "command that wrote it"
        ) from None
    return data


def read_eval_results(path: str | Path) -> dict:
    """An `unlearn eval` results file, checked."""
    data = read_json(path, what="results file")
    return check_shape(data, EvalResults, path, "results file", "an `unlearn eval` results file")


def read_stage_results(path: str | Path, what: str = "stage result") -> dict:
    """An analysis command's results file ({meta, values}), checked."""
    kind = "an analysis result ({meta, values})"
    return check_shape(read_json(path, what=what), StageResults, path, what, kind)


def read_object(path: str | Path, what: str) -> dict:
    """A JSON file that must hold an object (a checkpoint card, augmentation statistics)."""
    data = read_json(path, what=what)
    if not isinstance(data, dict):
        raise UserError(f"{what} {path} is not a JSON object; restore the file")
    return data


class RunSummary(_Open):
    """run.json of `relearn-interp reproduce`: what `relearn-interp figures` redraws from."""

    settings: dict[str, Any]
    stages: list[str]
    checkpoints: dict[str, str]
    wall_seconds: float | int
    peak_rss_mb: float | int
    precision: dict[str, Any] | None = None
