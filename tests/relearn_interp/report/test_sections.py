"""The circuits section of the report shows edge counts as shares with their CIs."""

from relearn_interp.report.sections import circuits_section

ESTIMATE = {"value": 0.5, "low": 0.4, "high": 0.6, "n": 7}


def _diff(weakened: dict) -> dict:
    circuit = {
        "circuit": {
            "target_reached": True,
            "n_edges": 100,
            "fraction_of_edges": 0.5,
            "faithfulness_ci": ESTIMATE,
        },
        "cpr": ESTIMATE,
        "cmd": ESTIMATE,
        "metric": {"gap": 2.0},
    }
    return {
        "meta": {"metric": "logit_diff"},
        "values": {
            "circuits": {"vanilla": circuit},
            "diff": {
                "entity_edges": {
                    "relearn": {
                        "weakened": weakened,
                        "strengthened": {"value": 20.0, "low": 10.0, "high": 30.0, "n": 7},
                        "net_share": ESTIMATE,
                    }
                },
                "rank_overlap": {
                    "relearn": {"jaccard_top_n": 0.6, "spearman_reference_circuit": 0.5}
                },
                "normaliser": {"relearn": {"gap_vs_reference": 0.9}},
                "edge_set": {"n_edges": 100, "n_entity": 40},
            },
        },
    }


def test_edge_counts_read_as_shares_of_entity_edges():
    text = circuits_section(_diff({"value": 10.0, "low": 6.0, "high": 14.5, "n": 7}))
    row = next(line for line in text.splitlines() if line.startswith("| relearn"))
    assert "0.25 [0.15, 0.36] (10)" in row
    assert "0.50 [0.25, 0.75] (20)" in row


def test_missing_count_is_a_dash():
    text = circuits_section(_diff({}))
    row = next(line for line in text.splitlines() if line.startswith("| relearn"))
    assert "| – |" in row
