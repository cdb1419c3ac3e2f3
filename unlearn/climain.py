"""Shared CLI plumbing: subcommands in small modules, one-line errors, exit codes.

Each command module defines `configure(parser)` (arguments only, imports nothing heavy) and
`run(args) -> int`. Bad input raises UserError: one line on stderr and exit 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from unlearn.errors import UserError


def build_parser(
    prog: str, description: str, commands: dict[str, tuple[str, str]]
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in commands.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name, help=help_text, description=(module.__doc__ or help_text).strip()
        )
        module.configure(command)
        command.set_defaults(_module=module_name)
    return parser


def run_cli(
    prog: str, description: str, commands: dict[str, tuple[str, str]], argv: Sequence[str] | None
) -> int:
    parser = build_parser(prog, description, commands)
    args = parser.parse_args(argv)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
