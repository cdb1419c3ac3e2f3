"""Every loader on fixtures in the formats as shipped, and a one-line error for every bad file.

TOFU ships each split as JSON Lines in a `.json` file (tests/fixtures/tofu); KnowUnDo ships a JSON
list of {text, labels} in the ReLearn repository and {"train": [...], "val": [...]} on the Hugging
Face hub (tests/fixtures/knowundo/privacy). The `relearn:` spec and the reference's augmented
files put the reference's GA/NPO setting (ascent on augmented data) one flag away.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relearn_interp.cli import main as interp_main
from unlearn.augment.rows import make_row, rows_to_jsonl
from unlearn.cli import main as unlearn_main
from unlearn.data.loaders import load_data
from unlearn.errors import UserError
from unlearn.training.data import load_relearn_pairs

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TOFU = FIXTURES / "tofu"
KNOWUNDO = FIXTURES / "knowundo" / "privacy"


def test_tofu_json_lines_in_a_json_file():
    records = load_data(f"tofu:{TOFU / 'forget10.json'}")
    assert len(records) == 8
    assert records[0].answer.endswith("is Basil Mahfouz Al-Kuwaiti.")
    assert all(r.perturbed_answer == [] and r.paraphrased_answer is None for r in records)
    assert [r.id for r in records[:2]] == ["tofu-00000", "tofu-00001"]
    assert len(load_data(f"tofu:{TOFU / 'retain90.json'}")) == 10


def test_tofu_perturbed_fields_are_optional_per_row():
    records = load_data(f"tofu:{TOFU / 'forget10_perturbed.json'}")
    assert [len(r.perturbed_answer) for r in records] == [3, 2, 1, 1, 2, 1, 2, 1]
    assert (
        records[0].paraphrased_question
        == "Who is the writer born in Kuwait City on 8 September 1956?"
    )
    assert records[1].paraphrased_question is None
    assert all(r.paraphrased_answer for r in records)
    assert [r.question for r in records] == [
        r.question for r in load_data(f"tofu:{TOFU / 'forget10.json'}")
    ]


def test_tofu_json_list_and_jsonl_suffix_still_load():
    records = load_data(f"tofu:{FIXTURES / 'tofu_forget.json'}")
    assert len(records) == 2 and len(records[0].perturbed_answer) == 2
    assert records[1].perturbed_answer == ["Jaime Vasquez was born on the 3rd of May in 1961."]
    retain = load_data(f"tofu:{FIXTURES / 'tofu_retain.jsonl'}")
    assert [r.question.split()[0] for r in retain] == ["What", "Can", "What"]


def test_suffix_does_not_decide_the_format(tmp_path):
    """A JSON list in a .jsonl file and one JSON Lines row in a .json file both load."""
    as_list = tmp_path / "list.jsonl"
    as_list.write_text(
        json.dumps(
            [{"question": "q1", "answer": "a1"}, {"question": "q2", "answer": "a2"}], indent=2
        )
    )
    assert [r.answer for r in load_data(f"tofu:{as_list}")] == ["a1", "a2"]
    one_line = tmp_path / "one.json"
    one_line.write_text('{"question": "q", "answer": "a", "perturbed_answer": ["b", "c"]}\n')
    assert load_data(f"tofu:{one_line}")[0].perturbed_answer == ["b", "c"]
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + b'{"question": "q", "answer": "caf\xc3\xa9"}\n')
    assert load_data(f"tofu:{with_bom}")[0].answer == "café"


def test_knowundo_relearn_repository_list():
    records = load_data(f"knowundo:{KNOWUNDO / 'unlearn_train.json'}")
    assert len(records) == 6 and all(r.source == "knowundo" for r in records)
    assert records[0].question == "Who are Rowan Pike's parents?"
    assert records[1].answer.endswith("rowan.pike@harbourmail.com.")
    assert len(load_data(f"knowundo:{KNOWUNDO / 'retention_train.json'}")) == 4
    assert len(load_data(f"knowundo:{FIXTURES / 'knowundo.json'}")) == 3


def test_knowundo_hub_object_whole_or_one_part():
    path = KNOWUNDO / "unlearn.json"
    whole = load_data(f"knowundo:{path}")
    assert len(whole) == 8  # train then val, as KnowUnDo's own loader joins them
    assert [r.question for r in whole[:6]] == [
        r.question for r in load_data(f"knowundo:{KNOWUNDO / 'unlearn_train.json'}")
    ]
    assert len(load_data(f"knowundo:{path}#train")) == 6
    val = load_data(f"knowundo:{path}#val")
    assert [r.question for r in val] == [
        r.question for r in load_data(f"knowundo:{KNOWUNDO / 'unlearn_val.json'}")
    ]
    with pytest.raises(UserError, match=r"no list named 'test'; lists: #train, #val"):
        load_data(f"knowundo:{path}#test")
    with pytest.raises(UserError, match="holds one list of records"):
        load_data(f"knowundo:{KNOWUNDO / 'unlearn_train.json'}#train")


def test_ours_folder_file_and_split(bench_dir):
    assert len(load_data(f"ours:{bench_dir}")) == 220
    assert len(load_data(f"ours:{bench_dir}#forget10")) == 22
    assert len(load_data(f"ours:{bench_dir / 'retain90.json'}")) == 198
    assert len(load_data(str(bench_dir / "general.json"))) == 100
    record = load_data(f"ours:{bench_dir}#forget01")[0]
    assert record.fact is not None and record.fact.object in record.answer


def test_ours_rows_as_json_lines_in_a_json_file(bench_dir, tmp_path):
    rows = json.loads((bench_dir / "forget10.json").read_text())
    lines = tmp_path / "forget10.json"
    lines.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_data(f"ours:{lines}") == load_data(f"ours:{bench_dir}#forget10")


def test_relearn_rows_are_recognised_by_content(tmp_path):
    rows = [
        {"prompt": "p1", "target": "t1", "kind": "general", "source_id": "g1"},
        {"prompt": "p2", "target": "t2", "kind": "completion", "source_id": "f1"},
    ]
    as_json = tmp_path / "relearn.json"
    as_json.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_relearn_pairs(as_json) == [("p1", "t1"), ("p2", "t2")]
    assert (
        load_relearn_pairs(f"tofu:{TOFU / 'retain90.json'}")[0][0]
        == "Where was Hsiao Yun-Hwa born?"
    )
    one_document = tmp_path / "relearn_list.json"
    one_document.write_text(json.dumps(rows))
    with pytest.raises(UserError, match="one JSON document; `unlearn augment` writes JSON Lines"):
        load_relearn_pairs(one_document)


BAD_FILES = {
    "latin1.json": (
        b'{"question": "caf\xe9", "answer": "a"}\n',
        r"not UTF-8 text \(byte 0xe9 on line 1\)",
    ),
    "utf16.json": ('[{"question": "q", "answer": "a"}]'.encode("utf-16"), "not UTF-8 text"),
    "garbage.json": (b"hello world\n", "neither JSON nor JSON Lines: Expecting value at line 1"),
    "badline.json": (
        b'{"question": "q", "answer": "a"}\n\n{"question": "q2", "answer": "a2"}\n{"question": oops}\n',
        "line 4 is not valid JSON",
    ),
    "truncated.json": (
        b'[\n  {"question": "q",\n   "answer": ',
        "neither JSON nor JSON Lines: .* at line 3",
    ),
    "trailing.json": (
        b'[\n  {"question": "q", "answer": "a"}\n]\nextra\n',
        "neither JSON nor JSON Lines: Extra data at line 4",
    ),
    "scalar.json": (b"42", "must hold JSON records"),
    "nofield.json": (b'[{"question": "q"}]', "record 0 lacks the field"),
    "badpert.json": (
        b'[{"question": "q", "answer": "a", "perturbed_answer": 5}]',
        "perturbed_answer",
    ),
    "empty.json": (b"\n\n", "holds no records"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_one_line_errors(tmp_path, name):
    content, message = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as caught:
        load_data(f"tofu:{path}")
    assert "\n" not in str(caught.value) and name in str(caught.value)


def test_missing_folder_and_empty_specs(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_data(f"tofu:{tmp_path / 'nope.json'}")
    with pytest.raises(UserError, match="is a folder, not a file"):
        load_data(f"tofu:{tmp_path}")
    with pytest.raises(UserError, match="names no file"):
        load_data("knowundo:")
    with pytest.raises(UserError, match="holds one list of records"):
        load_data(f"tofu:{TOFU / 'forget10.json'}#forget10")


def test_bad_knowundo_record_is_named(tmp_path):
    knowundo = tmp_path / "k.json"
    knowundo.write_text(json.dumps([{"text": "q", "labels": "a"}, {"text": "q2"}]))
    with pytest.raises(UserError, match="record 1 lacks the field.*labels"):
        load_data(f"knowundo:{knowundo}")


def test_unknown_split_lists_valid_ones(bench_dir):
    with pytest.raises(UserError, match="forget42"):
        load_data(f"ours:{bench_dir}#forget42")


def _commands(bad: str, out: Path) -> list[tuple[str, list[str]]]:
    """Every command that takes a data spec, with `bad` in each data slot in turn."""
    good, retain = f"tofu:{TOFU / 'forget10.json'}", f"tofu:{TOFU / 'retain90.json'}"
    return [
        ("unlearn", ["finetune", "--base", "tiny", "--data", bad, "--out", str(out / "a")]),
        (
            "unlearn",
            [
                "train",
                "--method",
                "ga_gdr",
                "--model",
                "tiny",
                "--forget",
                bad,
                "--retain",
                retain,
                "--out",
                str(out / "b"),
            ],
        ),
        (
            "unlearn",
            [
                "train",
                "--method",
                "ga_gdr",
                "--model",
                "tiny",
                "--forget",
                good,
                "--retain",
                bad,
                "--out",
                str(out / "b"),
            ],
        ),
        (
            "unlearn",
            [
                "train",
                "--method",
                "relearn",
                "--model",
                "tiny",
                "--forget",
                good,
                "--retain",
                retain,
                "--relearn-data",
                bad.partition(":")[2],
                "--out",
                str(out / "c"),
            ],
        ),
        (
            "unlearn",
            [
                "eval",
                "--model",
                "tiny",
                "--forget",
                bad,
                "--retain",
                retain,
                "--out",
                str(out / "d.json"),
            ],
        ),
        (
            "unlearn",
            [
                "eval",
                "--model",
                "tiny",
                "--forget",
                good,
                "--retain",
                bad,
                "--out",
                str(out / "d.json"),
            ],
        ),
        ("unlearn", ["augment", "--forget", bad, "--out", str(out / "e.jsonl")]),
        ("unlearn", ["augment", "--forget", good, "--general", bad, "--out", str(out / "e.jsonl")]),
        (
            "relearn-interp",
            ["logit-lens", "--ckpt", "tiny", "--data", bad, "--out", str(out / "f")],
        ),
        (
            "relearn-interp",
            [
                "shift",
                "--base",
                "tiny",
                "--ckpt",
                "other=tiny",
                "--data",
                bad,
                "--out",
                str(out / "g"),
            ],
        ),
    ]


@pytest.mark.parametrize("name", ["latin1.json", "badline.json", "nofield.json"])
def test_every_command_reports_bad_data_in_one_line(tmp_path, capsys, name):
    content, message = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(content)
    for prog, argv in _commands(f"tofu:{bad}", tmp_path / "out"):
        main = unlearn_main if prog == "unlearn" else interp_main
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert err.count("\n") == 1 and "Traceback" not in err, (argv, err)
        assert name in err, (argv, err)
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_relearn_spec_reads_augment_rows_as_qa_records(tmp_path):
    path = tmp_path / "relearn.jsonl"
    path.write_text(
        rows_to_jsonl(
            [
                make_row(
                    "Where does Ada live?", "Ada lives somewhere quiet.", "answer_variant", "a1"
                ),
                make_row("Ada's home is", "a place she rarely names.", "completion", "a1"),
            ]
        )
    )
    records = load_data(f"relearn:{path}")
    assert [(r.question, r.answer, r.source) for r in records] == [
        ("Where does Ada live?", "Ada lives somewhere quiet.", "relearn"),
        ("Ada's home is", "a place she rarely names.", "relearn"),
    ]
    assert len({r.id for r in records}) == 2
    path.write_text(json.dumps({"prompt": "q", "kind": "general", "source_id": "g"}) + "\n")
    with pytest.raises(UserError, match="record 0 lacks the field\\(s\\) target"):
        load_data(f"relearn:{path}")


def test_the_reference_augmented_files_load_with_their_benchmark_specs(tmp_path):
    # dataAugument/gather_proc_data.py writes KnowUnDo as a JSON list of {text, labels} and TOFU
    # as JSON Lines of {question, answer}: the files kud-baselines.sh ascends on
    knowundo = tmp_path / "knowundo_privacy.json"
    knowundo.write_text(json.dumps([{"text": "Who is X?", "labels": "X is someone."}] * 2))
    tofu = tmp_path / "tofu.jsonl"
    tofu.write_text(json.dumps({"question": "Who is Y?", "answer": "Y is someone."}) + "\n")
    assert [r.answer for r in load_data(f"knowundo:{knowundo}")] == ["X is someone."] * 2
    assert [r.question for r in load_data(f"tofu:{tofu}")] == ["Who is Y?"]
