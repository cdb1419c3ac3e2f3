"""The whole pipeline on constructed models: vanilla against itself reads zero everywhere, and a
model suppressed only at its output is flagged by the lens, by patching and by the judgement."""

from __future__ import annotations

import pytest

from relearn_interp.erasure.judge import erasure_table
from relearn_interp.erasure.pipeline import ErasureSettings, erasure
from relearn_interp.erasure.relearning import RelearnSettings

pytestmark = pytest.mark.integration

SETTINGS = ErasureSettings(bits=(8,), relearn=RelearnSettings(steps=2, batch_size=4))


@pytest.fixture(scope="module")
def results(vanilla, suppressed, forget, retain, world):
    checkpoints = {"vanilla": vanilla, "suppressed": suppressed}
    return erasure(vanilla, checkpoints, forget, retain, SETTINGS, context=world.records)


def test_vanilla_against_itself_is_zero_everywhere(results):
    values = results["values"]["checkpoints"]["vanilla"]
    per_fact = values["per_fact"]
    assert not any(per_fact["forgotten"])
    for probe in ("lens", "lens_raw", "lens_own", "int8", "any"):
        assert not any(per_fact[probe]), probe
    assert all(v is None for v in per_fact["relearn"] + per_fact["control"])
    for item in results["items"]:
        patching = item["checkpoints"]["vanilla"]["patching"]["slot"]
        assert abs(patching["gap"]) < 1e-4 and patching["depth"] is None
        assert (
            max(abs(v - patching["checkpoint_logprob"]) for v in patching["restored_logprob"])
            < 1e-4
        )
        assert (
            max(abs(v - patching["base_logprob"]) for v in patching["transferred_logprob"]) < 1e-4
        )
    assert values["judgement"] == "nothing forgotten"
    assert values["summary"]["any"]["value"] == 0 and values["curves"]["slot"]["n"] == 0


def test_output_suppression_is_flagged_by_lens_and_patching(results):
    values = results["values"]["checkpoints"]["suppressed"]
    per_fact = values["per_fact"]
    forgotten = sum(per_fact["forgotten"])
    assert forgotten >= 0.8 * len(per_fact["forgotten"])
    hits = sum(h for h, f in zip(per_fact["lens"], per_fact["forgotten"], strict=True) if f)
    assert hits >= 0.8 * forgotten  # read through the base head, the gold token is right there
    depths = [d for d in per_fact["depth"] if d is not None]
    assert len(depths) >= 0.8 * forgotten and max(depths) < 1e-6  # no block carries the forgetting
    restore = values["curves"]["slot"]["restore_share"]["mean"]
    assert max(restore) < 1e-6  # patching the base's stream in cannot get past the damped head
    assert values["summary"]["depth"]["high"] < 0.5 and values["summary"]["lens"]["low"] > 0.2
    assert values["judgement"] == "suppressed"


def test_results_carry_provenance_and_per_fact_rows(results, forget):
    meta = results["meta"]
    assert meta["n_records"] == len(forget)
    assert meta["n_facts"] + len(meta["excluded_unknown"]) == len(forget)
    assert set(meta["backend"]) >= {"recall", "lens", "patching", "quantization", "relearning"}
    assert not set(meta["control_ids"]) & {r.id for r in forget}
    assert len(results["items"]) == meta["n_facts"] == len(results["values"]["fact_ids"])
    for values in results["values"]["checkpoints"].values():
        assert set(values["seconds"]) >= {
            "recall",
            "patching",
            "lens",
            "quantization",
            "relearning",
        }
        assert all(len(v) == meta["n_facts"] for v in values["per_fact"].values())
    table = erasure_table(results)
    assert table.judgements == {"vanilla": "nothing forgotten", "suppressed": "suppressed"}
    assert table.claim["verdict"] == "inconclusive" and table.claim["comparisons"] == []
