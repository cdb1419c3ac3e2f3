"""`relearn-interp`: logit lens, distribution shift, knowledge circuits, figures and the main job."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from unlearn.climain import run_cli

COMMANDS: dict[str, tuple[str, str]] = {}


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli("relearn-interp", __doc__ or "", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
