"""The claims registry: every registered claim is checked once, in order, and missing inputs give
"not measured" rows instead of a crash."""

from __future__ import annotations

from relearn_interp.claims import CLAIMS, check_claims
from relearn_interp.claims.base import Evidence


def test_every_registered_claim_gives_one_row_and_missing_inputs_are_not_measured():
    empty = Evidence(evals={}, lens={}, shift={}, circuits=None, circuit_pairs=None, erasure=None)
    claims = check_claims(empty)
    assert len(claims) == len(CLAIMS)
    assert [check.name for check in CLAIMS] == [
        "entropy",
        "memory",
        "precision",
        "balance",
        "circuits",
        "erasure",
    ]
    # with no checkpoints the balance claim has nothing to compare; every other one lacks inputs
    missing = [c for c in claims if c.verdict == "not measured"]
    assert [c.claim for c in missing] == ["entropy", "memory", "precision", "circuits", "erasure"]
    assert all(c.measured.startswith("could not be measured: missing") for c in missing)
    assert claims[3].verdict == "inconclusive" and not claims[3].comparisons
