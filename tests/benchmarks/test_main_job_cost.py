"""The main job's stage table and floor (benchmarks/main_job_cost.py) on a synthetic work folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.main_job_cost import UnitCosts, main
from relearn_interp.layout import STAGE_MARKER

UNITS = UnitCosts(train_example=0.5, generated_token=0.1)


def _write(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))


def _words(n: int) -> str:
    return " ".join(["w"] * n)


def _eval(forget_tokens: list[int], retain_tokens: list[int]) -> dict:
    return {
        "items": {
            "forget": [
                {"question": "q", "gold": "g", "generated": _words(n)} for n in forget_tokens
            ],
            "retain": [{"generated": _words(n)} for n in retain_tokens],
        }
    }


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A finished run: vanilla (trained), one method, their evals, the lens and the erasure."""
    seconds = {"vanilla": 40.0, "train-npo": 30.0, "eval-vanilla": 10.0, "eval-npo": 10.0}
    seconds |= {"logit-lens": 5.0, "erasure": 5.0}
    _write(
        tmp_path / "run.json",
        {"wall_seconds": 110.0, "stages": list(seconds), "checkpoints": {"vanilla": "x"}},
    )
    for name, value in seconds.items():
        _write(tmp_path / name / STAGE_MARKER, {"key": "k", "seconds": value})
    # vanilla: 2 checks of 3 questions, 40 examples at the last; its eval's forget answers: 4 tokens
    trace = [{"step": 5, "examples": 20}, {"step": 10, "examples": 40}]
    _write(
        tmp_path / "vanilla/model/relearn.json",
        {"recall_target": {"questions": 3, "trace": trace}},
    )
    # npo: 1 check of 3 questions, 10 examples; its eval's forget answers: 2 tokens on average
    _write(
        tmp_path / "train-npo/model/relearn.json",
        {"forget_target": {"questions": 3, "trace": [{"examples": 10}]}, "dose": {"steps": 1}},
    )
    _write(tmp_path / "eval-vanilla/vanilla.json", _eval([4, 4, 4], [6]))
    _write(tmp_path / "eval-npo/npo.json", _eval([1, 2, 3], [4]))
    _write(tmp_path / "erasure/erasure.json", {"recall": {"a": [{"generated": _words(5)}]}})
    return tmp_path


def test_shares_and_the_ratio_to_the_floor(work, capsys):
    ratio = main(["--results", str(work)], units=UNITS, count_tokens=lambda t: len(t.split()))
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    # vanilla: 40 examples x 0.5 s + 2 checks x 3 questions x 4 tokens x 0.1 s = 22.4 s
    assert rows["vanilla"][1:6] == ["40.0", "36.4%", "40", "24", "22.4"]
    assert rows["vanilla"][-1] == "est."
    # npo: 10 x 0.5 + 1 x 3 x 2 x 0.1 = 5.6 s; its eval: 10 tokens, 1.0 s; erasure: 5 tokens
    assert rows["train-npo"][1:6] == ["30.0", "27.3%", "10", "6", "5.6"]
    assert rows["eval-npo"][1:6] == ["10.0", "9.1%", "0", "10", "1.0"]
    assert rows["eval-vanilla"][4:6] == ["18", "1.8"]
    assert rows["erasure"][4:6] == ["5", "0.5"]
    assert rows["logit-lens"][4:6] == ["0", "0.0"]
    assert rows["(outside"][2:4] == ["10.0", "9.1%"]
    floor = 22.4 + 5.6 + 1.8 + 1.0 + 0.5
    assert ratio == pytest.approx(110.0 / floor)
    assert f"{110.0 / floor:.1f}x" in rows["unit"][-1]


def test_a_stage_without_saved_answers_is_estimated_at_the_generation_cap(work, capsys):
    (work / "eval-npo/npo.json").unlink()
    (work / "run.json").write_text(
        json.dumps({"wall_seconds": 110.0, "stages": ["train-npo"], "checkpoints": {}})
    )
    main(["--results", str(work)], units=UNITS, count_tokens=lambda t: len(t.split()))
    row = next(line for line in capsys.readouterr().out.splitlines() if "train-npo" in line)
    assert row.split()[4] == str(3 * 48)


@pytest.mark.parametrize("breakage", ["missing", "no wall_seconds", "bad marker"])
def test_a_missing_or_malformed_folder_prints_one_line_and_exits_2(work, capsys, breakage):
    if breakage == "missing":
        work = work / "nowhere"
    elif breakage == "no wall_seconds":
        (work / "run.json").write_text(json.dumps({"stages": ["vanilla"]}))
    else:
        (work / "vanilla" / STAGE_MARKER).write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        main(["--results", str(work)], units=UNITS, count_tokens=lambda t: len(t.split()))
    assert exit_info.value.code == 2
    out = capsys.readouterr().out
    assert len(out.strip().splitlines()) == 1 and "not a finished reproduce work folder" in out


def test_forget_answers_an_eval_took_from_the_stop_rule_are_not_counted_again(work, capsys):
    results = _eval([1, 2, 3], [4])
    results["meta"] = {"clean_forget_answers": "the stop rule's check at the kept step"}
    _write(work / "eval-npo/npo.json", results)
    main(["--results", str(work)], units=UNITS, count_tokens=lambda t: len(t.split()))
    row = next(line for line in capsys.readouterr().out.splitlines() if "eval-npo" in line)
    assert row.split()[4] == "4"  # the retain answer only
