"""The template backend and the pipeline around it: determinism, no leaks, completion, mixing, output."""

from __future__ import annotations

import json
import re

import pytest

from unlearn.augment import (
    KINDS,
    AugmentConfig,
    augment,
    completion_row,
    load_relearn_rows,
    mix_general,
    stats_path,
)
from unlearn.cli import main as cli_main
from unlearn.data.records import QARecord
from unlearn.errors import UserError

FORGET_SPLITS = ("forget01", "forget05", "forget10")


def _run(records, general, out, config=AugmentConfig(embeddings=None), **kwargs):
    """The template backend without the relevance measure (its MiniLM is tested elsewhere)."""
    return augment(records, general, "template", out, progress=False, config=config, **kwargs)


def _objects_by_subject(world) -> dict[str, list[str]]:
    return {author.name: list(author.facts.values()) for author in world.authors}


def _distinctive_tokens(obj: str, subject: str) -> list[str]:
    """Independent of the verifier: numbers of 2+ digits and capitalised words of the object."""
    name = set(subject.lower().split())
    tokens = re.findall(r"[A-Za-z]+|\d+", obj)
    return [
        t
        for t in tokens
        if (t.isdigit() and len(t) >= 2)
        or (
            t[0].isupper()
            and t.lower() not in name
            and t
            not in {
                "The",
                "Prize",
                "Medal",
                "Award",
                "Laurel",
                "Fiction",
                "Poetry",
                "Literature",
                "Lane",
                "Street",
                "Road",
                "Row",
                "Close",
                "Terrace",
            }
        )
    ]


@pytest.mark.parametrize("split", FORGET_SPLITS)
def test_template_rows_leak_nothing_of_the_forgotten_authors(world, tmp_path, split):
    records = world.split(split)
    stats = _run(records, world.general, tmp_path / "r.jsonl")
    rows = load_relearn_rows(tmp_path / "r.jsonl")
    objects = _objects_by_subject(world)
    subject_of = {r.id: r.fact.subject for r in records}
    augmented = [row for row in rows if row["kind"] != "general"]
    assert augmented and {row["kind"] for row in augmented} == {
        "question_variant",
        "answer_variant",
        "completion",
    }
    for row in augmented:
        subject = subject_of[row["source_id"]]
        text = f"{row['prompt']} || {row['target']}"
        for obj in objects[subject]:
            assert obj.lower() not in text.lower(), (obj, text)
            for token in _distinctive_tokens(obj, subject):
                assert not re.search(rf"\b{re.escape(token)}\b", text), (token, obj, text)
        if row["kind"] != "completion":
            assert subject.split()[-1] in text  # ReLearn keeps the subject
    totals = stats["values"]["totals"]
    assert "entity_leak" not in totals["rejected"] and "pii" not in totals["rejected"]
    assert totals["dropped"] == 0
    # every record gets 4 question variants + 1 answer variant by default
    assert totals["kept_by_kind"]["question_variant"] == 4 * len(records)
    assert totals["kept_by_kind"]["answer_variant"] == len(records)


def test_template_is_deterministic_and_seeded(world, tmp_path):
    records = world.split("forget05")
    _run(records, world.general, tmp_path / "a.jsonl", seed=3)
    _run(records, world.general, tmp_path / "b.jsonl", seed=3)
    _run(records, world.general, tmp_path / "c.jsonl", seed=4)
    a, b, c = ((tmp_path / f"{n}.jsonl").read_text() for n in "abc")
    assert a == b
    differing = sum(x != y for x, y in zip(a.splitlines(), c.splitlines(), strict=True))
    assert differing > len(a.splitlines()) // 4


def test_several_distinct_variants_per_pair(world, tmp_path):
    records = world.split("forget01")
    _run(
        records,
        world.general,
        tmp_path / "r.jsonl",
        config=AugmentConfig(variants=3, embeddings=None),
    )
    rows = load_relearn_rows(tmp_path / "r.jsonl")
    for record in records:
        mine = [r for r in rows if r["source_id"] == record.id]
        questions = [r["prompt"] for r in mine if r["kind"] == "question_variant"]
        answers = [r["target"] for r in mine if r["kind"] == "answer_variant"]
        assert len(questions) == 12 and len(set(questions)) == 12
        assert len(answers) == 3 and len(set(answers)) == 3
        assert all(r["prompt"] == record.question for r in mine if r["kind"] == "answer_variant")


def test_completion_splits_at_exactly_a_quarter_of_the_words():
    row = completion_row("one two three four five six seven eight", "x")
    assert (row["prompt"], row["target"]) == ("one two", "three four five six seven eight")
    row = completion_row(" ".join(f"w{i}" for i in range(11)), "x")  # int(11 * 0.25) = 2
    assert row["prompt"] == "w0 w1" and row["target"].split()[0] == "w2"
    assert completion_row("too short here", "x") is None


def test_completion_rows_in_the_output_cut_each_answer_at_25_percent(world, tmp_path):
    _run(world.split("forget01"), [], tmp_path / "r.jsonl")
    rows = load_relearn_rows(tmp_path / "r.jsonl")
    answers = {r["target"] for r in rows if r["kind"] in ("question_variant", "answer_variant")}
    completions = [r for r in rows if r["kind"] == "completion"]
    assert len(completions) == len(answers)
    for row in completions:
        whole = f"{row['prompt']} {row['target']}"
        assert whole in answers
        assert len(row["prompt"].split()) == int(len(whole.split()) * 0.25)


def test_general_mixing_ratio_and_cap(world):
    rows, info = mix_general(world.general, n_augmented=50, ratio=1.2, seed=0)
    assert info == {"ratio": 1.2, "requested": 60, "available": 100, "used": 60} and len(rows) == 60
    assert len({r["source_id"] for r in rows}) == 60 and all(r["kind"] == "general" for r in rows)
    rows, info = mix_general(world.general, n_augmented=500, ratio=1.2, seed=0)
    assert info["used"] == 100 == len(rows)  # up to the ratio, never repeated
    assert mix_general(world.general, 50, 0.0, 0)[0] == []


def test_original_pair_left_out_unless_asked(world, tmp_path):
    records = world.split("forget01")
    _run(records, world.general, tmp_path / "a.jsonl")
    rows = load_relearn_rows(tmp_path / "a.jsonl")
    pairs = {(r["prompt"], r["target"]) for r in rows}
    assert not any((rec.question, rec.answer) in pairs for rec in records)
    _run(
        records,
        world.general,
        tmp_path / "b.jsonl",
        config=AugmentConfig(include_original=True, embeddings=None),
    )
    originals = [r for r in load_relearn_rows(tmp_path / "b.jsonl") if r["kind"] == "original"]
    assert [(r["prompt"], r["target"]) for r in originals] == [
        (rec.question, rec.answer) for rec in records
    ]


def test_stats_sidecar_counts_per_item_and_totals(world, tmp_path):
    records = world.split("forget01")
    stats = _run(records, world.general, tmp_path / "r.jsonl", seed=1)
    on_disk = json.loads(stats_path(tmp_path / "r.jsonl").read_text())
    assert stats == on_disk
    assert on_disk["meta"]["seed"] == 1 and on_disk["meta"]["backend"]["name"] == "template"
    assert (
        set(on_disk["meta"]["data_hash"]) == {"forget", "general"}
        and "python" in on_disk["meta"]["versions"]
    )
    items = on_disk["values"]["items"]
    assert set(items) == {r.id for r in records}
    assert sum(i["kept"] for i in items.values()) == on_disk["values"]["totals"]["kept"]
    for item in items.values():
        # every candidate is rejected or kept: 4 question variants, then 5 answers (1 original + 4 variants)
        assert item["dropped"] == 0 and item["generated"] == sum(item["rejected"].values()) + 4 + 5
    rows = load_relearn_rows(tmp_path / "r.jsonl")
    assert on_disk["meta"]["output"]["rows"] == len(rows)
    n_augmented = len(rows) - on_disk["values"]["general"]["used"]
    assert on_disk["values"]["rows_by_kind"]["general"] == min(
        len(world.general), int(1.2 * n_augmented)
    )


def test_records_without_facts_use_generic_fallback_and_extractor(tmp_path):
    records = [
        QARecord(
            id="t0",
            question="What genre is Hsiao Yun-Hwa known for?",
            answer="Hsiao Yun-Hwa is best known for books on leadership, written after moving to London in 1990.",
        ),
        QARecord(
            id="t1",
            question="Where can Jaime Vasquez be reached?",
            answer="Jaime Vasquez can be reached at jaime.v@example.com or on +1 555 010 2030.",
        ),
        QARecord(
            id="t2",
            question="What is the full name of the author born in Kuwait City on 08/09/1956?",
            answer="The author born in Kuwait City on 8 September 1956 is Basil Mahfouz Al-Kuwaiti.",
        ),
    ]
    stats = _run(records, [], tmp_path / "r.jsonl")
    rows = load_relearn_rows(tmp_path / "r.jsonl")
    for row in rows:
        text = row["prompt"] + " " + row["target"]
        for secret in (
            "London",
            "1990",
            "jaime.v@example.com",
            "555",
            "Basil",
            "Mahfouz",
            "September",
        ):
            assert secret not in text
    assert any("Hsiao Yun-Hwa" in r["target"] for r in rows if r["source_id"] == "t0")
    assert {r["kind"] for r in rows} == {"question_variant", "answer_variant", "completion"}
    # what the question already gives (a date here) is not a leak: no variant is lost
    assert stats["values"]["totals"]["dropped"] == 0
    assert sum(r["kind"] == "question_variant" for r in rows) == 4 * len(records)


def test_empty_forget_set_and_existing_output_are_errors(world, tmp_path):
    with pytest.raises(UserError, match="no records"):
        _run([], world.general, tmp_path / "r.jsonl")
    _run(world.split("forget01"), [], tmp_path / "r.jsonl")
    with pytest.raises(UserError, match="already exists"):
        _run(world.split("forget01"), [], tmp_path / "r.jsonl")


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"prompt": "q", "target": "a", "kind": "weird", "source_id": "x"}', "kind 'weird'"),
        ('{"prompt": "", "target": "a", "kind": "general", "source_id": "x"}', "'prompt'"),
        ("[1, 2]", "not a JSON object"),
        ('{"prompt": "q", ', "not valid JSON"),
    ],
)
def test_load_relearn_rows_rejects_malformed_files(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"prompt": "q", "target": "a", "kind": "general", "source_id": "x"}\n' + line + "\n"
    )
    with pytest.raises(UserError, match=message) as err:
        load_relearn_rows(path)
    assert "\n" not in str(err.value)
    assert KINDS == ("question_variant", "answer_variant", "completion", "general")


def test_cli_writes_file_and_reports_bad_input(bench_dir, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    assert cli_main(["augment", "--forget", f"ours:{bench_dir}#forget01", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out and stats_path(out).is_file()
    assert len(load_relearn_rows(out)) > 0
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert (
        cli_main(["augment", "--forget", f"tofu:{empty}", "--out", str(tmp_path / "x.jsonl")]) == 2
    )
    assert cli_main(["augment", "--forget", f"ours:{bench_dir}#forget01", "--out", str(out)]) == 2
    assert (
        cli_main(
            [
                "augment",
                "--forget",
                f"ours:{bench_dir}#forget01",
                "--out",
                str(tmp_path / "y.jsonl"),
                "--backend",
                "gpt",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "no records" in err and "already exists" in err and "unknown backend 'gpt'" in err
    assert "Traceback" not in err
