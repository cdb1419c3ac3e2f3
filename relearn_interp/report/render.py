"""figures/ and REPORT.md, drawn from a main-job run's saved results alone (no model is loaded).

Every number carries a 95% paired-bootstrap CI over facts (`relearn_interp.metric_intervals`),
and every claim is checked by one module of `relearn_interp.claims` with a printed rule and a
three-valued verdict (supported / contradicted / inconclusive), as ../shared/CLAIMS.md asks.
The folder holds only what REPORT.md references (and claims.json): stale report figures are
removed before drawing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from relearn_interp.claims import Claim, check_claims
from relearn_interp.layout import CIRCUIT_DIFF_FIGURES
from relearn_interp.plots.dose import plot_dose
from relearn_interp.plots.erasure import plot_erasure
from relearn_interp.plots.faithfulness import draw_curve
from relearn_interp.plots.lens import plot_logit_lens
from relearn_interp.plots.metrics import plot_metrics, plot_precision, precision_estimates
from relearn_interp.plots.shift import plot_shift
from relearn_interp.report.load import RunResults
from relearn_interp.report.sections import (
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


# the report's own figure names: a file of the folder it writes that matches one and that this run
# did not draw is left from an earlier run (another split, a stage that no longer runs)
FIGURE_STEMS = ("metrics", "precision", "dose", "erasure_patching", "erasure_recovery",
                "circuit_faithfulness", "circuit_diff", "circuits_whole")  # fmt: skip
SPLIT_FIGURE_PREFIXES = ("logit_lens_", "shift_")


def draw_figures(run: RunResults, figures_dir: Path) -> list[Path]:
    """Every figure of the report, each statistic with its 95% bootstrap CI over facts (the same
    seed, hence the same resample, as the report's numbers); returns the files written. The
    forget split's lens also gets the full layer × position grid as a PDF
    (`logit_lens_<split>_heatmap_full.pdf`)."""
    seed = run.seed
    written = plot_metrics(run.metric_estimates, figures_dir / "metrics")
    written += plot_precision(precision_estimates(run.evals, seed), figures_dir / "precision")
    written += plot_dose(run.cards, figures_dir / "dose")
    for split in (run.forget_split, run.retain_split):
        written += plot_logit_lens(run.lens[split], figures_dir, prefix=f"logit_lens_{split}",
                                   full_heatmap=split == run.forget_split, seed=seed)  # fmt: skip
        written += plot_shift(run.shift[split], figures_dir, prefix=f"shift_{split}", seed=seed)
    if run.erasure:
        written += plot_erasure(run.erasure, run.evidence.erasure_table, figures_dir)
    if run.circuits:
        curve = figures_dir / "circuit_faithfulness"
        written += draw_curve(run.circuits["values"]["circuits"], curve)
        for name in CIRCUIT_DIFF_FIGURES:
            if (run.circuit_dir / name).is_file():
                written.append(Path(shutil.copyfile(run.circuit_dir / name, figures_dir / name)))
    return written


def remove_stale_figures(figures_dir: Path, written: list[Path]) -> list[Path]:
    """Delete the report figures in `figures_dir` that this run did not draw; returns them."""
    kept = {path.name for path in written}
    stale = [
        path
        for path in sorted(figures_dir.iterdir())
        if path.is_file()
        and path.suffix in (".png", ".pdf")
        and (path.stem in FIGURE_STEMS or path.stem.startswith(SPLIT_FIGURE_PREFIXES))
        and path.name not in kept
    ]
    for path in stale:
        path.unlink()
    return stale


def write_report(run: RunResults, figures_dir: Path) -> Path:
    """Draw every figure into `figures_dir` and write REPORT.md (and claims.json) there; report
    figures left there by an earlier run are removed, so the folder holds this run's alone."""
    figures_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_figures(figures_dir, draw_figures(run, figures_dir))
    claims = check_claims(run.evidence)
    estimates = run.metric_estimates
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
    erasure = run.evidence.erasure_table if run.erasure else None
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

Every number in brackets is a 95% CI over facts: a Wilson interval for a proportion (KFR,
recall, KRR, a probe's recovered share), otherwise a percentile bootstrap (2,000 resamples, one
resample shared by every checkpoint, so differences are paired); `claims.json` holds them all.

Selection on the scored facts (not yet held out): the stop rule checks forget recall on the same
forget questions, with the same matcher, that the eval scores, so each method's kept forget recall
equals its eval forget recall by construction; the learning rates, the stop-rule cadence and
ReLearn's epoch cap were chosen on these forget facts (docs/train.md). The held-out retain facts
were not used to choose anything. Read the forget-side numbers as in-sample.

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

The same on the held-out retain set `{retain}`, the control (knowledge that should stay):

![logit lens, retain](logit_lens_{retain}_layers.png) ![heatmap, retain](logit_lens_{retain}_heatmap.png)

## Knowledge distribution: token-distribution shift against vanilla on the forget set

![entropy](shift_{forget}_entropy.png) ![rank](shift_{forget}_rank.png) ![mass](shift_{forget}_mass.png)

{shift_section(run.shift[forget])}

The held-out retain set `{retain}`, the control:

![entropy, retain](shift_{retain}_entropy.png) ![rank, retain](shift_{retain}_rank.png) ![mass, retain](shift_{retain}_mass.png)

## Knowledge circuits of the forget authors

{circuits_section(run.circuits)}

## Beyond the paper: erased, or only suppressed?

{erasure_section(run.erasure, erasure)}

## Stages

{stages_section(run.timings)}

Settings: `{json.dumps(s)}`
"""
