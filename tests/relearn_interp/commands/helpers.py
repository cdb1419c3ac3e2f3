"""Helpers of the command tests: the files a command declares, and one-line refusals."""

from __future__ import annotations

from relearn_interp.cli import main


def declared(module) -> list[str]:
    return [
        module.RESULTS,
        *(f"{figure}.{ext}" for figure in module.FIGURES for ext in ("png", "pdf")),
    ]


def run_refused(argv: list[str], capsys) -> str:
    """Run a command that must refuse: exit 2, a one-line error (after any loading bars), no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("relearn-interp: error:")]
    assert len(errors) == 1 and err.endswith(errors[0]) and "Traceback" not in err
    return errors[0]
