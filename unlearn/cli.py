"""`unlearn`: build data, fine-tune the vanilla model, augment, unlearn and evaluate."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from unlearn.commands import run_cli

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("unlearn.commands.data", "build the fictitious-author benchmark"),
    "prepare": ("unlearn.commands.prepare", "prepare a preset model (convert the embedded GGUF)"),
    "finetune": ("unlearn.commands.finetune", "fine-tune the vanilla target model"),
    "eval": (
        "unlearn.commands.eval",
        "evaluate a checkpoint: KFR, KRR, LS, fluency/relevance, robustness",
    ),
    "compare": (
        "unlearn.commands.compare",
        "compare eval results: checkpoints x metrics, best marked",
    ),
    "augment": (
        "unlearn.commands.augment",
        "build ReLearn training data (augment, verify, complete, mix)",
    ),
    "train": (
        "unlearn.commands.train",
        "unlearn a checkpoint: GA, NPO, GDR/KLR, SURE variants, ReLearn",
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("unlearn", __doc__ or "", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
