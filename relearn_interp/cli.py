"""`relearn-interp`: logit lens, distribution shift, knowledge circuits, figures and the main job."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from unlearn.commands import run_cli

COMMANDS: dict[str, tuple[str, str]] = {
    "logit-lens": (
        "relearn_interp.commands.logit_lens",
        "decode every layer's residual stream (logit lens)",
    ),
    "shift": (
        "relearn_interp.commands.shift",
        "token-distribution shift of unlearned checkpoints vs the base",
    ),
    "circuit": (
        "relearn_interp.commands.circuit",
        "knowledge circuit of one entity (EAP-IG edges, pruning, faithfulness)",
    ),
    "circuit-diff": (
        "relearn_interp.commands.circuit_diff",
        "compare the knowledge circuits of several checkpoints",
    ),
    "erasure": (
        "relearn_interp.commands.erasure",
        "erased or suppressed? lens recovery, patching depth, relearning and quantization",
    ),
    "reproduce": (
        "relearn_interp.commands.reproduce",
        "the main job: train, evaluate and analyse every method; write figures/REPORT.md",
    ),
    "figures": (
        "relearn_interp.commands.figures",
        "redraw every figure and REPORT.md from saved results",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("relearn-interp", __doc__ or "", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
