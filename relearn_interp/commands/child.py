"""Run one analysis command from a file of typed arguments: the main job's child processes.

`relearn_interp.main.stages` writes the arguments (`relearn_interp.command_args.write_args`) and
starts `python -m relearn_interp.commands.child FILE`; the child rebuilds the dataclass and runs
the command's `execute` behind the CLI's error boundary (one line and exit 2 for bad input), so
its models and buffers leave memory with it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from relearn_interp.commands import circuit_diff, erasure, logit_lens, shift

PROG = "relearn-interp"
# the commands the main job runs in child processes (`command_args.CHILD_COMMANDS`)
EXECUTE: dict[str, Callable[..., int]] = {
    "logit-lens": logit_lens.execute,
    "shift": shift.execute,
    "circuit-diff": circuit_diff.execute,
    "erasure": erasure.execute,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command whose typed arguments are in the file `argv[0]`; its exit code."""
    from relearn_interp.command_args import read_args
    from unlearn.commands import run_guarded

    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) != 1:
        print("usage: python -m relearn_interp.commands.child ARGS.json", file=sys.stderr)
        return 2

    def run() -> int:
        command, args = read_args(Path(argv[0]))
        return EXECUTE[command](args)

    return run_guarded(PROG, run)


if __name__ == "__main__":
    sys.exit(main())
