"""figures/ and REPORT.md, drawn from a main-job run's saved results alone (no model is loaded).

Every number carries a 95% paired-bootstrap CI over facts (`relearn_interp.metric_intervals`),
and every claim is checked by one function of `relearn_interp.claims` with a printed rule and a
three-valued verdict (supported / contradicted / inconclusive), as ../shared/CLAIMS.md asks.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from relearn_interp.circuits.results import draw_curve
from relearn_interp.claims import (
    Claim,
    claim_balance,
    claim_circuits,
    claim_entropy,
    claim_erasure,
    claim_memory,
    claim_precision,
)
from relearn_interp.claims.base import guarded
from relearn_interp.metric_intervals import metric_estimates
from relearn_interp.plots.dose import plot_dose
from relearn_interp.plots.erasure import plot_erasure
from relearn_interp.plots.lens import plot_logit_lens
from relearn_interp.plots.metrics import plot_metrics, plot_precision, precision_estimates
from relearn_interp.plots.shift import plot_shift
from relearn_interp.report_sections import (
    augment_section,
    backends_section,
    circuits_section,
    claims_section,
    dose_section,
    erasure_section,
    lens_section,
    metrics_section,
    shift_section,
    stages_section,
)
from unlearn.io import versions, write_json, write_text
from unlearn.precision import describe

CLAIMS_FILE = "claims.json"
ERASURE_FILE = "erasure.json"


@dataclass
class RunResults:
    """Everything a report is drawn from, loaded from a run's stage folders."""

    settings: dict
    evals: dict[str, dict]
    cards: dict[str, dict]
    augment_stats: dict | None
    lens: dict[str, dict]
    shift: dict[str, dict]
    erasure: dict | None
    circuits: dict | None
    circuit_pairs: dict | None
    circuit_dir: Path
    forget_split: str
    retain_split: str
    timings: list[dict]
    wall_seconds: float
    peak_rss_mb: float
    precision: dict | None = None  # stage -> the resolved arithmetic (run.json)


def _load(path: Path) -> dict:
    """A stage's results ({meta, values}); a missing, malformed or misshapen file is one line."""
    from unlearn.eval.results_file import read_stage_results

    return read_stage_results(path)


def _object(path: Path, what: str) -> dict:
    from unlearn.eval.results_file import read_object

    return read_object(path, what)


def _optional(path: Path) -> dict | None:
    """A stage's results, or None when that stage did not run."""
    return _load(path) if path.is_file() else None


def load_run(
    work_dir: Path,
    settings: dict,
    checkpoints: dict[str, Path],
    forget_split: str,
    retain_split: str,
    timings: list[dict],
    wall_seconds: float,
    peak_rss_mb: float,
    precision: dict | None = None,
) -> RunResults:
    """Read the results of every stage of a finished run."""
    from unlearn.eval.results_file import read_eval_results

    circuit_dir = work_dir / "circuits" / "diff"
    evals = {}
    for folder in sorted(work_dir.glob("eval-*")):
        for path in sorted(folder.glob("*.json")):
            if not path.name.startswith("."):
                evals[path.stem] = read_eval_results(path)
    cards = {
        label: _object(path / "relearn.json", "checkpoint card")
        for label, path in checkpoints.items()
        if (path / "relearn.json").is_file()
    }
    stats_file = work_dir / "augment" / "relearn.jsonl.stats.json"
    return RunResults(
        settings=settings,
        evals=evals,
        cards=cards,
        augment_stats=_object(stats_file, "augmentation statistics")
        if stats_file.is_file()
        else None,
        lens={
            s: _load(work_dir / "logit-lens" / s / "logit_lens.json")
            for s in (forget_split, retain_split)
        },
        shift={
            s: _load(work_dir / "shift" / s / "shift.json") for s in (forget_split, retain_split)
        },
        erasure=_optional(work_dir / "erasure" / ERASURE_FILE),
        circuits=_optional(circuit_dir / "circuit_diff.json"),
        circuit_pairs=(
            _object(circuit_dir / "pairs.json", "circuit pairs")
            if (circuit_dir / "pairs.json").is_file()
            else None
        ),
        circuit_dir=circuit_dir,
        forget_split=forget_split,
        retain_split=retain_split,
        precision=precision,
        timings=timings,
        wall_seconds=wall_seconds,
        peak_rss_mb=peak_rss_mb,
    )


def check_claims(run: RunResults, seed: int = 0) -> list[Claim]:
    """Every claim of the paper (and ours), checked on the run's saved per-fact results."""
    forget = run.forget_split
    checks = [
        (lambda: claim_entropy(run.shift[forget], seed), "entropy", "shift per fact"),
        (lambda: claim_memory(run.lens[forget], seed), "memory", "logit lens per fact"),
        (lambda: claim_precision(run.evals, seed), "precision", "KFR per fact under rounding"),
        (lambda: claim_balance(run.evals, seed), "balance", "KRR/LS per fact"),
        (
            lambda: claim_circuits(run.circuits, run.circuit_pairs, seed),
            "circuits",
            "net share per fact",
        ),
        (lambda: claim_erasure(run.erasure, seed), "erasure", "recovered share per fact"),
    ]
    return [guarded(check, name, statistic) for check, name, statistic in checks]


def draw_figures(run: RunResults, figures_dir: Path) -> None:
    """Every figure of the report, each statistic with its 95% bootstrap CI over facts (the same
    seed, hence the same resample, as the report's numbers). The forget split's lens also gets
    the full layer × position grid as a PDF (`logit_lens_<split>_heatmap_full.pdf`)."""
    seed = int(run.settings.get("seed", 0))
    plot_metrics(metric_estimates(run.evals, seed), figures_dir / "metrics")
    plot_precision(precision_estimates(run.evals, seed), figures_dir / "precision")
    plot_dose(run.cards, figures_dir / "dose")
    for split in (run.forget_split, run.retain_split):
        plot_logit_lens(run.lens[split], figures_dir, prefix=f"logit_lens_{split}",
                        full_heatmap=split == run.forget_split, seed=seed)  # fmt: skip
        plot_shift(run.shift[split], figures_dir, prefix=f"shift_{split}", seed=seed)
    if run.erasure:
        plot_erasure(run.erasure, figures_dir)
    if run.circuits:
        draw_curve(run.circuits["values"]["circuits"], figures_dir / "circuit_faithfulness")
        for name in ("circuit_diff.png", "circuit_diff.pdf", "circuits_whole.pdf"):
            if (run.circuit_dir / name).is_file():
                shutil.copyfile(run.circuit_dir / name, figures_dir / name)


def write_report(run: RunResults, figures_dir: Path) -> Path:
    """Draw every figure into `figures_dir` and write REPORT.md (and claims.json) there."""
    figures_dir.mkdir(parents=True, exist_ok=True)
    draw_figures(run, figures_dir)
    seed = int(run.settings.get("seed", 0))
    claims = check_claims(run, seed)
    estimates = metric_estimates(run.evals, seed)
    write_json(
        figures_dir / CLAIMS_FILE,
        {
            "claims": [c.to_json() for c in claims],
            "metrics": {
                label: {key: e.to_json() for key, e in values.items()}
                for label, values in estimates.items()
            },
        },
    )
    return write_text(figures_dir / "REPORT.md", render(run, claims, estimates))


def _authors(results: dict, set_name: str) -> int:
    """How many authors a set's facts come from (benchmark ids are `authorNNN-relation`)."""
    return len({item["id"].split("-")[0] for item in results["items"][set_name]})


def _not_reached(cards: dict[str, dict]) -> str:
    missed = [
        label
        for label, card in cards.items()
        if not card.get("forget_target", {}).get("reached", True)
    ]
    if not missed:
        return "Every method reached the forget target, so the claims compare them at one forgetting level."
    return (
        f"**Not at the target:** {', '.join(missed)} never reached it within the step cap and "
        "{is_are} compared at {its_their} best checked step (lowest forget recall); read "
        "comparisons involving {it_them} with that in mind."
    ).format(
        is_are="is" if len(missed) == 1 else "are",
        its_their="its" if len(missed) == 1 else "their",
        it_them="it" if len(missed) == 1 else "them",
    )


def arithmetic_line(run: RunResults) -> str:
    """Which arithmetic produced the numbers: each training stage's resolved autocast (from the
    checkpoint cards, or run.json), the erasure probes', and the analyses' dtype."""
    records = {
        f"train-{label}" if label != "vanilla" else "vanilla": card["precision"]
        for label, card in run.cards.items()
        if "precision" in card
    }
    records.update({k: v for k, v in (run.precision or {}).items() if k not in records})
    if not records:
        return "Arithmetic: not recorded (a run made before precision was recorded)."
    groups: dict[str, list[str]] = {}
    for stage, record in records.items():
        groups.setdefault(describe(record), []).append(stage)
    training = "; ".join(f"{text}: {', '.join(stages)}" for text, stages in groups.items())
    analysis = next(
        (e["meta"]["precision"] for e in run.evals.values() if "precision" in e.get("meta", {})),
        None,
    )
    analyses = f"; evaluation and analyses: {describe(analysis)}" if analysis else ""
    return f"Arithmetic: {training}{analyses}."


def render(run: RunResults, claims: list[Claim], estimates: dict) -> str:
    """REPORT.md's text."""
    s, forget, retain = run.settings, run.forget_split, run.retain_split
    version_text = ", ".join(f"{k} {v}" for k, v in versions().items())
    first = next(iter(run.evals.values()))
    n_forget, n_retain = first["values"]["forget"]["n"], first["values"]["retain"]["n"]
    a_forget, a_retain = _authors(first, "forget"), _authors(first, "retain")
    seed = int(s.get("seed", 0))
    return f"""# relearn-interp report: preset `{s["preset"]}`

Produced by `relearn-interp reproduce --preset {s["preset"]}` from saved results
(`relearn-interp figures` redraws it). Forget set: `{forget}` ({n_forget} facts of {a_forget} authors,
also asked with their paraphrased questions); KRR is scored on the held-out `{retain}`
({n_retain} facts of {a_retain} other authors), which no retain term trained on. Every method was
trained to one forget target (recall ≤ {s.get("target_recall")}); its dose is below. Wall time
{run.wall_seconds / 60:.1f} min for this invocation (cached stages cost nothing; the stage table
gives each stage's own time); peak RSS {run.peak_rss_mb:,.0f} MB (the main process plus the
analysis processes it starts, sampled every 0.2 s).
{arithmetic_line(run)}
Versions: {version_text}.

Every number in brackets is a 95% percentile bootstrap CI over facts (2,000 resamples, one
resample shared by every checkpoint, so differences are paired); `claims.json` holds them all.

## Claims, checked

{_not_reached(run.cards)}

{claims_section(claims)}

## Dose: what each method needed to reach the forget target

![dose](dose.png)

{dose_section(run.cards)}

## Metrics

![metrics](metrics.png)

{metrics_section(estimates)}

Backends (proxies are named as such):

{backends_section(run.evals)}

![precision](precision.png)

## The ReLearn training data

{augment_section(run.augment_stats)}

## Knowledge memory: logit lens on the forget set

![logit lens](logit_lens_{forget}_layers.png)

![heatmap](logit_lens_{forget}_heatmap.png)

{lens_section(run.lens[forget])}

## Knowledge distribution: token-distribution shift against vanilla on the forget set

![entropy](shift_{forget}_entropy.png) ![rank](shift_{forget}_rank.png) ![mass](shift_{forget}_mass.png)

{shift_section(run.shift[forget])}

## Knowledge circuits of the forget authors

{circuits_section(run.circuits)}

## Beyond the paper: erased, or only suppressed?

{erasure_section(run.erasure, seed)}

## Stages

{stages_section(run.timings)}

Settings: `{json.dumps(s)}`
"""
