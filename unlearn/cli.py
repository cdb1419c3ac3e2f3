"""`unlearn`: build data, fine-tune the vanilla model, augment, unlearn and evaluate."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from unlearn.climain import run_cli

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("unlearn.commands.data", "build the fictitious-author benchmark"),
    "prepare": ("unlearn.commands.prepare", "prepare a preset model (convert the embedded GGUF)"),
    "finetune": ("unlearn.commands.finetune", "fine-tune the vanilla target model"),
}


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("unlearn", __doc__ or "", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
