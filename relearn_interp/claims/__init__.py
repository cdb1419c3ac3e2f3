"""The paper's claims (and ours), one module each: statistic, paired-bootstrap CI over facts (or
prompt pairs), the printed rule, and a three-valued verdict (../shared/CLAIMS.md).

A claim is one module that defines its check and a `CHECK = ClaimCheck(...)`, plus one line in
`CLAIMS` below. Every check reads saved results only (`Evidence`), so `relearn-interp figures`
re-checks them without a model; missing inputs give a "not measured" row rather than a crash.
"""

from __future__ import annotations

from relearn_interp.claims import balance, circuits, distribution, erasure, memory, robustness
from relearn_interp.claims.base import Claim, ClaimCheck, Evidence, guarded

CLAIMS: tuple[ClaimCheck, ...] = (
    distribution.CHECK,
    memory.CHECK,
    robustness.CHECK,
    balance.CHECK,
    circuits.CHECK,
    erasure.CHECK,
)


def check_claims(evidence: Evidence) -> list[Claim]:
    """Every registered claim, checked on one run's saved per-fact results, in registry order."""
    return [guarded(lambda c=c: c.check(evidence), c.name, c.inputs) for c in CLAIMS]
