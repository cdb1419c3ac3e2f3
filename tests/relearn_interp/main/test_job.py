"""The main job end to end on the tiny preset, its stage cache, and `relearn-interp figures`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from relearn_interp.cli import main
from relearn_interp.main.cache import StageRunner

METHODS = ("vanilla", "ga_gdr", "npo_gdr", "ga_gdr_sure", "npo_gdr_sure", "relearn")


@pytest.mark.integration
def test_main_job_writes_every_figure_and_the_report(tiny_run):
    figures = tiny_run / "figures"
    for stem in (
        "metrics",
        "precision",
        "dose",
        "logit_lens_forget15_layers",
        "logit_lens_forget15_heatmap",
        "shift_forget15_entropy",
        "shift_forget15_rank",
        "shift_forget15_mass",
        "circuit_diff",
        "circuit_faithfulness",
        "erasure_patching",
        "erasure_recovery",
    ):
        assert (figures / f"{stem}.png").stat().st_size > 10_000, stem
        assert (figures / f"{stem}.pdf").is_file()
    report = (figures / "REPORT.md").read_text()
    table = report.split("## Claims, checked")[1].split("\n1. ")[0]
    verdicts = re.findall(
        r"\| \*\*(supported|contradicted|inconclusive|not measured)\*\* \|", table
    )
    assert len(verdicts) == 6 and "not measured" not in verdicts, table
    for method in METHODS:
        assert f"| {method} |" in report
    assert "kb (knowledge-base proxy for deberta-v3-base-tasksource-nli)" in report
    assert "template augmenter" in report and "[" in report  # proxies named, CIs shown
    assert "Holm" in report and "Wilson" in report  # the correction and the intervals named
    assert "Selection on the scored facts" in report  # hyper-parameters chosen on them, said
    for png in figures.glob("*.png"):  # every drawn figure is referenced by the report
        assert f"({png.name})" in report, png.name
    claims = json.loads((figures / "claims.json").read_text())
    assert {c["verdict"] for c in claims["claims"]} <= {"supported", "contradicted", "inconclusive"}


@pytest.mark.integration
def test_every_method_is_trained_to_the_forget_target(tiny_run):
    for method in METHODS[1:]:
        card = json.loads((tiny_run / f"train-{method}" / "model" / "relearn.json").read_text())
        target, dose = card["forget_target"], card["dose"]
        assert target["recall_at_most"] == 0.2 and dose["steps"] > 0
        if target["reached"]:
            assert dose["forget_recall"] <= 0.2
        trace = [check["recall"] for check in target["trace"]]
        assert trace[0] >= 0.9 and min(trace) == dose["forget_recall"]


@pytest.mark.integration
def test_every_method_is_evaluated_at_the_forgetting_level_it_stopped_at(tiny_run):
    """The eval re-measures the stop rule's recall: same weights (tiny trains every weight),
    same greedy decoding, same batch, same matcher, so the numbers agree exactly."""

    def values(label: str) -> dict:
        return json.loads((tiny_run / f"eval-{label}" / f"{label}.json").read_text())["values"]

    vanilla = values("vanilla")
    assert vanilla["forget"]["fact_recall"] >= 0.9 and vanilla["retain"]["fact_recall"] >= 0.9
    for method in METHODS[1:]:
        card = json.loads((tiny_run / f"train-{method}" / "model" / "relearn.json").read_text())
        forget = values(method)["forget"]
        assert forget["fact_recall"] == pytest.approx(card["dose"]["forget_recall"]), method
        assert forget["KFR"] > vanilla["forget"]["KFR"]


@pytest.mark.integration
def test_rerun_is_served_from_the_cache(tiny_run, vanilla_ckpt, capsys):
    from relearn_interp.main.job import reproduce
    from relearn_interp.main.settings import ReproduceSettings

    before = {p: p.stat().st_mtime for p in tiny_run.glob("*/.stage")}
    reproduce(
        ReproduceSettings.for_preset("tiny", vanilla=str(vanilla_ckpt)),
        tiny_run,
        tiny_run / "figures",
    )
    after = {p: p.stat().st_mtime for p in tiny_run.glob("*/.stage")}
    assert before == after and len(before) >= 14


@pytest.mark.integration
def test_figures_command_redraws_from_saved_results(tiny_run, tmp_path):
    assert main(["figures", "--results", str(tiny_run), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "REPORT.md").read_text().count("**") >= 10
    assert (tmp_path / "again" / "shift_forget15_mass.png").is_file()
    assert (tmp_path / "again" / "REPORT.md").read_text() == (
        tiny_run / "figures" / "REPORT.md"
    ).read_text()


def test_stage_cache_reruns_only_what_changed(tmp_path):
    calls: list[str] = []

    def work(name: str):
        def run(folder: Path) -> None:
            calls.append(name)
            (folder / "out.txt").write_text(name)

        return run

    def pipeline(method_lr: float) -> None:
        runner = StageRunner(tmp_path)
        base = runner.run("base", {"seed": 0}, work("base"))
        a = runner.run("train-a", {"lr": 1e-3}, work("train-a"), [base])
        b = runner.run("train-b", {"lr": method_lr}, work("train-b"), [base])
        runner.run("report", {}, work("report"), [a, b])

    pipeline(1e-3)
    assert calls == ["base", "train-a", "train-b", "report"]
    pipeline(1e-3)
    assert calls == ["base", "train-a", "train-b", "report"]
    pipeline(5e-4)
    assert calls[4:] == ["train-b", "report"]


def test_failed_stage_leaves_no_output_and_reruns(tmp_path):
    runner = StageRunner(tmp_path)

    def crash(folder: Path) -> None:
        (folder / "half.txt").write_text("half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        runner.run("stage", {}, crash)
    assert not (tmp_path / "stage").exists()


def test_unknown_preset_is_refused(capsys):
    assert main(["reproduce", "--preset", "tiny2"]) == 2
    assert "unknown preset 'tiny2'; valid presets: tiny, smollm2-135m" in capsys.readouterr().err


@pytest.mark.integration
def test_the_resolved_precision_is_recorded_everywhere(tiny_run):
    from unlearn.precision import cpu_capability, resolve_mixed_precision

    info = json.loads((tiny_run / "run.json").read_text())
    precision = info["precision"]
    # tiny trains in fp32 by preset; the erasure probes ask for auto, resolved on this CPU
    assert precision["erasure"]["requested"] == "auto"
    assert precision["erasure"]["mixed_precision"] == resolve_mixed_precision("auto", "cpu")
    for method in METHODS[1:]:
        card = json.loads((tiny_run / f"train-{method}" / "model" / "relearn.json").read_text())
        assert card["precision"] == precision[f"train-{method}"], method
        assert card["precision"]["mixed_precision"] == "no"
        assert card["precision"]["cpu_capability"] == cpu_capability()
        meta = json.loads((tiny_run / f"eval-{method}" / f"{method}.json").read_text())["meta"]
        assert (
            meta["precision"]["dtype"] == "float32" and meta["precision"]["mixed_precision"] == "no"
        )
    lens = json.loads((tiny_run / "logit-lens" / "forget15" / "logit_lens.json").read_text())
    assert set(lens["meta"]["precision"]) == set(METHODS)
    erasure = json.loads((tiny_run / "erasure" / "erasure.json").read_text())
    # the job hands the child the resolved value, so the child's record asks for that
    assert (
        erasure["meta"]["precision"]["mixed_precision"] == precision["erasure"]["mixed_precision"]
    )
    report = (tiny_run / "figures" / "REPORT.md").read_text()
    header = report.split("## Claims, checked")[0]
    assert "Arithmetic:" in header and f"CPU {cpu_capability()}" in header


def test_mixed_precision_reaches_every_stage_that_trains_or_patches():
    from relearn_interp.main.settings import ReproduceSettings

    tiny = ReproduceSettings.for_preset("tiny").stage_precision()
    assert tiny["vanilla"] == "no" and tiny["train-relearn"] == "no" and tiny["erasure"] == "auto"
    smollm2 = ReproduceSettings.for_preset("smollm2-135m").stage_precision()
    assert set(smollm2.values()) == {"auto"} and len(smollm2) == 7
    forced = ReproduceSettings.for_preset("smollm2-135m", mixed_precision="no").stage_precision()
    assert set(forced.values()) == {"no"}


def test_reproduce_refuses_an_unknown_precision(capsys):
    try:
        code = main(["reproduce", "--preset", "tiny", "--mixed-precision", "fp8"])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2 and "--mixed-precision" in capsys.readouterr().err
