"""The circuit job on the tiny vanilla model: held-out halves, the grid, sizing, normalisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relearn_interp.circuits import attribute as attribute_module
from relearn_interp.circuits import faithfulness as faithfulness_module
from relearn_interp.circuits.metrics import metric_per_pair
from relearn_interp.circuits.pipeline import CircuitSettings, build_pairs, find_circuit

pytestmark = pytest.mark.integration

SETTINGS = CircuitSettings(method="eap", partners=2, batch_size=16)


@pytest.fixture(scope="module")
def forget_pairs(vanilla_bridge, bench_dir):
    return build_pairs(
        vanilla_bridge.tokenizer, [], f"ours:{bench_dir}", None, SETTINGS, entity_split="forget10"
    )


@pytest.fixture(scope="module")
def circuit(vanilla_bridge, forget_pairs):
    return find_circuit(vanilla_bridge, "vanilla", forget_pairs, SETTINGS, progress=False)


def test_entities_of_a_split_are_pooled(forget_pairs, world):
    assert {p.subject for p in forget_pairs.pairs} == set(world.forget_authors(10))
    assert forget_pairs.source == "entities:forget10 (2)"


def test_edges_are_chosen_on_pairs_disjoint_from_the_faithfulness_pairs(circuit, forget_pairs):
    chosen, held = circuit.selection.pair_ids, circuit.heldout.pair_ids
    assert set(chosen).isdisjoint(held) and len(chosen) + len(held) == len(forget_pairs.pairs)
    fact = {p.id: p.fact for p in forget_pairs.pairs}
    assert {fact[i] for i in chosen}.isdisjoint({fact[i] for i in held})
    assert circuit.heldout.per_pair.shape[0] == len(held) == len(circuit.runs.clean)


def test_the_circuit_is_the_smallest_grid_size_reaching_the_target(circuit):
    sizing = circuit.sizing
    f = sizing["faithfulness"]
    assert f[-1] == pytest.approx(1.0) and f[0] == pytest.approx(0.0, abs=0.05)
    choice = sizing["choice"]
    passing = [
        k
        for k, (x, value) in enumerate(zip(sizing["fractions"], f, strict=True))
        if x < 1 and value >= 0.8
    ]
    if passing:
        assert choice["reached"] and sizing["chosen_row"] == passing[0]
    else:
        assert not choice["reached"] and f[sizing["chosen_row"]] == max(f[:-1])
    row = sizing["chosen_row"]
    assert circuit.requested == sizing["requested"][row]
    assert int(circuit.keep.sum()) == sizing["n_edges"][row] <= circuit.requested
    assert sizing["cpr"]["low"] <= sizing["cpr"]["value"] <= sizing["cpr"]["high"]


def test_normalised_scores_do_not_change_when_the_metric_is_scaled(
    vanilla_bridge, forget_pairs, circuit, monkeypatch
):
    def tripled(*args, **kwargs):
        return 3.0 * metric_per_pair(*args, **kwargs)

    monkeypatch.setattr(attribute_module, "metric_per_pair", tripled)
    monkeypatch.setattr(faithfulness_module, "metric_per_pair", tripled)
    scaled = find_circuit(vanilla_bridge, "scaled", forget_pairs, SETTINGS, progress=False)
    assert scaled.mean_gap == pytest.approx(3 * circuit.mean_gap, rel=1e-4)
    torch.testing.assert_close(
        scaled.normalised_pair_scores(), circuit.normalised_pair_scores(), rtol=1e-3, atol=1e-6
    )
    np.testing.assert_allclose(
        scaled.sizing["faithfulness"], circuit.sizing["faithfulness"], atol=1e-4
    )
    assert torch.equal(scaled.keep, circuit.keep)
