"""`relearn-interp circuit` and `circuit-diff` end to end on the tiny vanilla checkpoint."""

from __future__ import annotations

import json

import pytest

from relearn_interp.circuits.export import load_graph
from relearn_interp.cli import main

pytestmark = pytest.mark.integration

FAST = [
    "--method",
    "eap",
    "--grid",
    "0.01,0.1,0.5,1",
    "--partners-per-fact",
    "2",
    "--device",
    "cpu",
]


def run_circuit(ckpt, out, *extra: str) -> int:
    return main(["circuit", "--ckpt", str(ckpt), "--out", str(out), *FAST, *extra])


def test_circuit_command_writes_the_circuit_and_its_heldout_faithfulness(
    vanilla_ckpt, bench_dir, world, tmp_path, capsys
):
    out = tmp_path / "circuit"
    entity = world.authors[3].name
    assert run_circuit(vanilla_ckpt, out, "--entity", entity, "--data", f"ours:{bench_dir}") == 0
    printed = capsys.readouterr().out
    assert "held-out faithfulness" in printed and "metric logit_diff" in printed
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
    assert meta["pairs_source"] == f"entity:{entity}" and meta["metric"] == "logit_diff"
    assert {"versions", "data_hash", "backend", "seed"} <= set(meta)
    assert values["metric"]["clean"] > values["metric"]["corrupted"]
    curve = values["curve"]
    assert [p["fraction"] for p in curve] == [0.01, 0.1, 0.5, 1.0]
    assert curve[-1]["n_edges"] == values["graph"]["n_edges"]
    assert curve[-1]["faithfulness"] == pytest.approx(1.0)
    kept = values["circuit"]
    assert kept["sized_by"] == "target" and kept["target"] == 0.8
    assert kept["faithfulness_ci"]["low"] <= kept["faithfulness"] <= kept["faithfulness_ci"]["high"]
    chosen = [p for p in curve if p["chosen"]]
    assert len(chosen) == 1 and chosen[0]["n_edges"] == kept["n_edges"]
    assert kept["target_reached"] == (chosen[0]["faithfulness"] >= 0.8)
    assert 0 <= values["cmd"]["value"] and values["cpr"]["value"] <= 0.99
    per_pair = values["per_pair"]
    assert len(per_pair["ids"]) == len(per_pair["clean"]) == values["pairs"]["n_heldout"]
    assert set(per_pair["ids"]).isdisjoint(values["pairs"]["selection_ids"])
    graph = load_graph(out / "graph.json")
    assert sum(1 for *_, d in graph.edges(data=True) if d["kind"] != "port") == kept["n_edges"]
    # a fixed size instead of the target, and no overwriting without --overwrite
    fixed = tmp_path / "fixed"
    assert (
        run_circuit(
            vanilla_ckpt, fixed, "--entity", entity, "--data", f"ours:{bench_dir}", "--edges", "30"
        )
        == 0
    )
    fixed_values = json.loads((fixed / "circuit.json").read_text())["values"]["circuit"]
    assert fixed_values["sized_by"] == "--edges" and fixed_values["n_edges"] <= 30
    capsys.readouterr()
    assert run_circuit(vanilla_ckpt, out, "--entity", entity, "--data", f"ours:{bench_dir}") == 2
    assert "--overwrite" in capsys.readouterr().err


def test_circuit_command_refuses_bad_input_in_one_line(vanilla_ckpt, bench_dir, tmp_path, capsys):
    out = tmp_path / "x"
    data = ["--data", f"ours:{bench_dir}"]
    cases = [
        (["--entity", "Nobody Here", *data], "no facts about 'Nobody Here'"),
        (["--entity", "x"], "--data"),
        (["--entities", "forget10", "--data", f"ours:{bench_dir}/full.json"], "benchmark folder"),
        (["--entity", "x", *data, "--edges", "5", "--threshold", "0.1"], "not both"),
        (["--entity", "x", *data, "--grid", "0.1,0.5"], "end at 1"),
        (["--entity", "x", *data, "--grid", "a,b"], "expected a number"),
        (["--entity", "x", *data, "--target", "1.5"], "--target"),
    ]
    for extra, message in cases:
        assert run_circuit(vanilla_ckpt, out, *extra) == 2, extra
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    csv = tmp_path / "pairs.csv"
    csv.write_text(
        "clean,corrupted,gold,corrupted_gold\nNia Hym was born in,A much longer name was born in, A, B\n"
    )
    assert run_circuit(vanilla_ckpt, out, "--pairs", str(csv)) == 2
    assert "unequal token length" in capsys.readouterr().err
    assert not out.exists()


def test_circuit_diff_compares_checkpoints_on_the_reference_circuit(
    vanilla_ckpt, tiny_base, bench_dir, tmp_path, capsys
):
    out = tmp_path / "diff"
    args = ["--ckpt", str(vanilla_ckpt), "--ckpt", f"base={tiny_base}", "--entities", "forget10"]
    assert (
        main(["circuit-diff", *args, "--data", f"ours:{bench_dir}", "--out", str(out), *FAST]) == 0
    )
    assert "entity edges weakened" in capsys.readouterr().out
    result = json.loads((out / "circuit_diff.json").read_text())
    diff, circuits = result["values"]["diff"], result["values"]["circuits"]
    assert diff["checkpoints"] == ["vanilla", "base"] and diff["reference"] == "vanilla"
    assert diff["edge_set"]["n_edges"] == circuits["vanilla"]["circuit"]["n_edges"]
    n_heldout = circuits["vanilla"]["pairs"]["n_heldout"]
    assert (
        diff["pair_ids"] == circuits["base"]["per_pair"]["ids"]
        and len(diff["pair_ids"]) == n_heldout
    )
    for key in ("entity_edges", "circuit_edges"):
        summary = diff[key]["base"]
        if summary["n_edges"]:
            assert len(summary["per_pair_net_share"]) == n_heldout
            assert all(-1 <= x <= 1 for x in summary["per_pair_net_share"])
    assert 0 <= diff["rank_overlap"]["base"]["jaccard_top_n"] < 1
    # the untrained base barely separates the pairs: its effect shrank, and it is flagged
    assert diff["normaliser"]["base"]["effect_shrank"]
    assert set(circuits) == {"vanilla", "base"}
    for name in (
        "circuit_diff.png",
        "circuit_diff.pdf",
        "circuits_whole.pdf",
        "faithfulness.png",
        "pairs.json",
        "graphs/base.graphml",
        "graphs/vanilla.json",
        "scores/base.npz",
    ):
        assert (out / name).stat().st_size > 0, name


def test_a_tofu_format_circuit_runs_end_to_end(vanilla_ckpt, world, tmp_path, capsys):
    """Records without fact triples, as TOFU ships them (JSON Lines inside a .json file)."""
    data = tmp_path / "forget.json"
    rows = [{"question": r.question, "answer": r.answer} for r in world.records]
    data.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    out = tmp_path / "tofu"
    entity = world.authors[-1].name
    assert run_circuit(vanilla_ckpt, out, "--entity", entity, "--data", f"tofu:{data}") == 0
    assert "metric answer_logprob" in capsys.readouterr().out
    result = json.loads((out / "circuit.json").read_text())
    assert result["meta"]["metric"] == "answer_logprob"
    assert "answer_logprob" in result["meta"]["backend"]["metric"]
    assert result["meta"]["pairs_source"] == f"names:{entity}"
    values = result["values"]
    assert values["metric"]["clean"] > values["metric"]["corrupted"]  # it knows its own author
    pairs = json.loads((out / "pairs.json").read_text())["pairs"]
    assert all(p["corrupted_gold"] is None and p["subject"] == entity for p in pairs)
    graph = load_graph(out / "graph.json")
    assert graph.number_of_edges() > 0 and (out / "graph.graphml").stat().st_size > 0
    # the same pairs and metric in circuit-diff
    diff_out = tmp_path / "tofu_diff"
    args = ["--ckpt", str(vanilla_ckpt), "--ckpt", f"again={vanilla_ckpt}", "--entity", entity]
    assert (
        main(["circuit-diff", *args, "--data", f"tofu:{data}", "--out", str(diff_out), *FAST]) == 0
    )
    diff = json.loads((diff_out / "circuit_diff.json").read_text())
    assert diff["meta"]["metric"] == "answer_logprob"
    assert diff["values"]["diff"]["circuit_edges"]["again"]["n_weakened"] == 0
