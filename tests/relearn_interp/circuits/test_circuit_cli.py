"""`relearn-interp circuit` and `circuit-diff` end to end on the tiny vanilla checkpoint."""

from __future__ import annotations

import json

import pytest

from relearn_interp.circuits.export import load_graph
from relearn_interp.cli import main

FAST = ["--ig-steps", "2", "--edges", "40", "--curve-points", "4", "--device", "cpu"]


def test_circuit_command_writes_the_circuit_and_its_faithfulness(
    vanilla_ckpt, bench_dir, world, tmp_path, capsys
):
    out = tmp_path / "circuit"
    entity = world.authors[3].name
    assert (
        main(
            [
                "circuit",
                "--entity",
                entity,
                "--ckpt",
                str(vanilla_ckpt),
                "--data",
                f"ours:{bench_dir}",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 0
    )
    assert "faithfulness" in capsys.readouterr().out
    for name in (
        "circuit.json",
        "pairs.json",
        "scores.npz",
        "graph.json",
        "graph.graphml",
        "circuit.png",
        "circuit.pdf",
        "faithfulness.png",
        "faithfulness.pdf",
    ):
        assert (out / name).stat().st_size > 0, name
    result = json.loads((out / "circuit.json").read_text())
    meta, values = result["meta"], result["values"]
    assert meta["pairs_source"] == f"entity:{entity}" and meta["settings"]["ig_steps"] == 2
    assert {"versions", "data_hash", "backend", "seed"} <= set(meta)
    assert 0 < values["circuit"]["n_edges"] <= 40
    assert values["metric"]["clean"] > values["metric"]["corrupted"]
    curve = values["curve"]
    assert curve[0]["n_edges"] == 0 and curve[0]["recovered"] == pytest.approx(0, abs=1e-3)
    assert curve[-1]["n_edges"] == values["graph"]["n_edges"] and curve[-1][
        "faithfulness"
    ] == pytest.approx(1, abs=1e-4)
    graph = load_graph(out / "graph.json")
    assert (
        sum(1 for *_, d in graph.edges(data=True) if d["kind"] != "port")
        == values["circuit"]["n_edges"]
    )
    # refuses to overwrite without --overwrite, with a one-line error
    assert (
        main(
            [
                "circuit",
                "--entity",
                entity,
                "--ckpt",
                str(vanilla_ckpt),
                "--data",
                f"ours:{bench_dir}",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 2
    )
    assert "--overwrite" in capsys.readouterr().err


def test_circuit_command_refuses_bad_input_in_one_line(vanilla_ckpt, bench_dir, tmp_path, capsys):
    base = ["circuit", "--ckpt", str(vanilla_ckpt), "--out", str(tmp_path / "x"), *FAST]
    assert main([*base, "--entity", "Nobody Here", "--data", f"ours:{bench_dir}"]) == 2
    err = capsys.readouterr().err
    assert "no facts about 'Nobody Here'" in err and err.count("\n") == 1
    csv = tmp_path / "pairs.csv"
    csv.write_text(
        "clean,corrupted,gold,corrupted_gold\nNia Hym was born in,A much longer name was born in, A, B\n"
    )
    assert main([*base, "--pairs", str(csv)]) == 2
    assert "unequal token length" in capsys.readouterr().err
    assert main([*base, "--entity", "x"]) == 2
    assert "--data" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_circuit_diff_command_compares_checkpoints(
    vanilla_ckpt, tiny_base, bench_dir, world, tmp_path, capsys
):
    out = tmp_path / "diff"
    assert (
        main(
            [
                "circuit-diff",
                "--ckpt",
                str(vanilla_ckpt),
                "--ckpt",
                f"base={tiny_base}",
                "--entity",
                world.authors[0].name,
                "--data",
                f"ours:{bench_dir}",
                "--out",
                str(out),
                *FAST,
            ]
        )
        == 0
    )
    assert "entity edges weakened" in capsys.readouterr().out
    result = json.loads((out / "circuit_diff.json").read_text())
    diff = result["values"]["diff"]
    assert diff["checkpoints"] == ["vanilla", "base"] and diff["reference"] == "vanilla"
    assert set(diff["only_in"]) == {"vanilla not base", "base not vanilla"}
    summary = diff["entity_edges"]["base"]
    assert summary["n_weakened"] == len(summary["weakened"])
    # the untrained base does not route the entity: its entity edges are far weaker
    assert diff["entity_abs_score"]["base"] < diff["entity_abs_score"]["vanilla"]
    assert set(result["values"]["circuits"]) == {"vanilla", "base"}
    for name in (
        "circuit_diff.png",
        "circuit_diff.pdf",
        "faithfulness.png",
        "pairs.json",
        "graphs/base.graphml",
        "graphs/vanilla.json",
        "scores/base.npz",
    ):
        assert (out / name).stat().st_size > 0, name
