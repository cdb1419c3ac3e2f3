"""One module per `unlearn` subcommand, and the CLI plumbing both CLIs share (`relearn-interp`
too): subcommands in small modules, one error boundary, exit codes.

Each command module defines `configure(parser)` (arguments only, imports nothing heavy) and
`run(args) -> int`. Bad input raises UserError, and an argparse error or a foreseeable OS error
(permission denied, disk full) reads the same: one line on stderr and exit 2, no traceback. Any
other exception prints one line with the path of a log file holding its traceback, and exit 1.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from unlearn.errors import UserError

LOG_FOLDER = "relearn-interp-logs"  # under the system's temporary folder


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(
    prog: str, description: str, commands: dict[str, tuple[str, str]]
) -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in commands.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name, help=help_text, description=(module.__doc__ or help_text).strip()
        )
        module.configure(command)
        command.set_defaults(_module=module_name)
    return parser


def os_error_line(err: OSError) -> str | None:
    """The one line for a foreseeable OS error (a path that cannot be written, a full disk)."""
    where = f" {err.filename}" if err.filename else ""
    if isinstance(err, PermissionError):
        return f"permission denied on{where}; choose another output or fix its permissions"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device writing{where}; free space or choose another output"
    if err.errno == errno.EROFS:
        return f"read-only file system at{where}; choose another output"
    return None


def log_traceback(prog: str, err: BaseException) -> Path:
    """Write the traceback of an unexpected error to a log file and return its path."""
    folder = Path(tempfile.gettempdir()) / LOG_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prog}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    path.write_text("".join(traceback.format_exception(err)))
    return path


def run_cli(
    prog: str, description: str, commands: dict[str, tuple[str, str]], argv: Sequence[str] | None
) -> int:
    """Parse `argv`, run the command, and turn every error into one line and an exit code."""
    parser = build_parser(prog, description, commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a one-line argparse error (2): a return code
        return int(stop.code or 0)
    return run_guarded(prog, lambda: importlib.import_module(args._module).run(args))


def run_guarded(prog: str, call: Callable[[], int | None]) -> int:
    """Run `call` behind the CLIs' error boundary: its return code, or one line and exit 2 for
    bad input and foreseeable OS errors, 130 for Ctrl-C, 1 (traceback logged) for anything else."""
    try:
        return int(call() or 0)
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        line = os_error_line(err)
        if line is None:
            return _unexpected(prog, err)
        print(f"{prog}: error: {line}", file=sys.stderr)
        return 2
    except Exception as err:
        return _unexpected(prog, err)


def _unexpected(prog: str, err: Exception) -> int:
    first = (str(err).strip().splitlines() or [""])[0][:200]
    try:
        where = f"; the traceback is in {log_traceback(prog, err)}"
    except OSError:
        where = ""
    print(
        f"{prog}: unexpected error: {type(err).__name__}: {first}{where} (please report it)",
        file=sys.stderr,
    )
    return 1
