"""`unlearn compare`: rows = checkpoints, columns = metrics, the best per column marked."""

from __future__ import annotations

import csv
import io

import pytest

from unlearn.cli import main
from unlearn.errors import UserError
from unlearn.eval.compare import build_table, direction, flatten
from unlearn.io import write_json


def results(
    name: str, kfr: float, krr: float, recall_f: float, ppl: float, nli: str, int4_kfr: float
) -> dict:
    return {
        "meta": {"name": name, "backends": {"nli": nli, "entities": "kb"}},
        "values": {
            "forget": {"KFR": kfr, "fact_recall": recall_f, "PPL": ppl, "n": 22, "n_empty": 0},
            "retain": {"KRR": krr, "fact_recall": 0.9, "PPL": None, "n": 198},
            "robustness": {"int4": {"forget": {"KFR": int4_kfr, "n": 22}}},
        },
        "items": {},
    }


@pytest.fixture
def files(tmp_path):
    paths = [tmp_path / "vanilla.json", tmp_path / "ga.json", tmp_path / "relearn.json"]
    write_json(paths[0], results("vanilla", 0.05, 0.95, 0.95, 3.0, "kb", 0.05))
    write_json(paths[1], results("ga", 0.90, 0.40, 0.05, 80.0, "kb", 0.30))
    write_json(paths[2], results("relearn", 0.85, 0.90, 0.05, 9.0, "hf:deberta", 0.80))
    return paths


def test_flatten_and_directions():
    flat = flatten(results("x", 0.1, 0.2, 0.3, 4.0, "kb", 0.5)["values"])
    assert flat == {
        "forget.KFR": 0.1,
        "forget.fact_recall": 0.3,
        "forget.PPL": 4.0,
        "retain.KRR": 0.2,
        "retain.fact_recall": 0.9,
        "retain.PPL": None,
        "int4/forget.KFR": 0.5,
    }
    assert direction("forget.KFR") == 1 and direction("retain.KRR") == 1
    assert direction("forget.fact_recall") == -1 and direction("retain.fact_recall") == 1
    assert direction("int4/forget.rougeL_recall") == -1 and direction("forget.PPL") == -1
    assert direction("relearn/trained_half.fact_recall") == 0


def test_table_marks_the_best_per_column(files):
    table = build_table(files, all_metrics=True)
    assert table.rows == ["vanilla", "ga", "relearn"]
    best = {
        column: {table.rows[r] for r in table.best(c)} for c, column in enumerate(table.columns)
    }
    assert best["forget.KFR"] == {"ga"}
    assert best["retain.KRR"] == {"vanilla"}
    assert best["forget.fact_recall"] == {"ga", "relearn"}  # a tie: both marked, lower is better
    assert best["forget.PPL"] == {"vanilla"}
    assert best["retain.fact_recall"] == {"vanilla", "ga", "relearn"}
    assert best["retain.PPL"] == set()  # no numbers
    assert best["int4/forget.KFR"] == {"relearn"}
    markdown = table.markdown()
    assert "| ga | **0.900** |" in markdown and "–" in markdown
    assert any("nli backends differ" in note for note in table.notes)
    assert not any("entities" in note for note in table.notes)
    rows = list(csv.reader(io.StringIO(table.csv())))
    assert rows[0][0] == "checkpoint" and rows[-1][0] == "best"
    assert rows[-1][rows[0].index("forget.KFR")] == "ga"


def test_headline_columns_hide_ppl_and_keep_robustness(files):
    columns = build_table(files).columns
    assert columns == [
        "forget.KFR",
        "retain.KRR",
        "forget.fact_recall",
        "retain.fact_recall",
        "int4/forget.KFR",
    ]


def test_compare_cli_writes_markdown_and_csv(files, tmp_path, capsys):
    assert main(["compare", *map(str, files), "--out", str(tmp_path / "table")]) == 0
    assert "| relearn |" in capsys.readouterr().out
    assert (tmp_path / "table.md").read_text().startswith("| checkpoint |")
    assert (tmp_path / "table.csv").read_text().startswith("checkpoint,forget.KFR")


def test_compare_rejects_files_that_are_not_results(tmp_path, capsys):
    write_json(tmp_path / "card.json", {"method": "ga"})
    with pytest.raises(UserError, match="not an `unlearn eval` results file"):
        build_table([tmp_path / "card.json"])
    assert main(["compare", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
