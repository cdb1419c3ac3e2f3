"""The paper's claims (and ours), each checked by one function: statistic, paired-bootstrap CI
over facts (or prompt pairs), the printed rule, and a three-valued verdict (../shared/CLAIMS.md).

Every function takes saved results only, so `relearn-interp figures` re-checks them without a
model. Missing inputs give a "not measured" row rather than a crash.
"""

from relearn_interp.claims.balance import claim_balance
from relearn_interp.claims.base import Claim, Comparison
from relearn_interp.claims.circuits import claim_circuits
from relearn_interp.claims.distribution import claim_entropy
from relearn_interp.claims.erasure import claim_erasure
from relearn_interp.claims.memory import claim_memory
from relearn_interp.claims.robustness import claim_precision

__all__ = [
    "Claim",
    "Comparison",
    "claim_balance",
    "claim_circuits",
    "claim_entropy",
    "claim_erasure",
    "claim_memory",
    "claim_precision",
]
