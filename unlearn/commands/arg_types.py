"""Argparse types for numeric flags: a bad number is refused at parse time, before anything loads.

Each type raises argparse.ArgumentTypeError, which the parser turns into one line naming the flag
(`argument --batch-size: must be at least 1, got 0`) and exit code 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from unlearn.presets import MIXED_PRECISION


def _number(text: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
        ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def int_at_least(low: int) -> Callable[[str], int]:
    """An integer >= low (e.g. --batch-size: at least 1)."""

    def parse(text: str) -> int:
        value = int(_number(text, int))
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An integer in [low, high] (e.g. --authors 2..200)."""

    def parse(text: str) -> int:
        value = int(_number(text, int))
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def finite_float(text: str) -> float:
    """Any finite number (no nan or inf)."""
    return float(_number(text, float))


def float_in(
    low: float, high: float, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """A finite number in [low, high]; low_open / high_open exclude an end."""

    def parse(text: str) -> float:
        value = finite_float(text)
        below = value < low or (low_open and value == low)
        above = value > high or (high_open and value == high)
        if below or above:
            if math.isinf(high):  # no upper end to show (inf is refused as not finite anyway)
                bound = f"{'greater than' if low_open else 'at least'} {low:g}"
            else:
                bound = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value:g}")
        return value

    return parse


def positive_float(text: str) -> float:
    """A finite number > 0 (e.g. a learning rate)."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value:g}")
    return value


def fraction_list(text: str) -> tuple[float, ...]:
    """Comma-separated finite fractions in (0, 1] that include 1 (a circuit's faithfulness grid)."""
    values = tuple(finite_float(part) for part in text.split(",") if part.strip())
    if not values:
        raise argparse.ArgumentTypeError(f"expected fractions such as 0.01,0.1,1, got {text!r}")
    if any(not 0 < value <= 1 for value in values):
        raise argparse.ArgumentTypeError(f"every fraction must be in (0, 1], got {text!r}")
    if max(values) != 1:
        raise argparse.ArgumentTypeError(
            f"the fractions must end at 1 (all edges), e.g. 0.01,0.1,1; got {text!r}"
        )
    return tuple(sorted(set(values)))


def add_mixed_precision(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str, default: str | None = None
) -> None:
    """The one `--mixed-precision` flag: `what` says which passes it autocasts."""
    parser.add_argument(
        "--mixed-precision",
        choices=MIXED_PRECISION,
        default=default,
        help=f"bf16 autocast of {what}; auto = only where the device runs bf16 natively "
        "(AVX512-BF16/AMX CPUs, CUDA with bf16), fp32 elsewhere",
    )


def recall_target(text: str) -> float:
    """A recall in (0, 1], or 'none' (encoded as 0.0: no target)."""
    return 0.0 if text.strip().lower() == "none" else _RECALL(text)


_RECALL = float_in(0.0, 1.0, low_open=True)
POSITIVE_INT = int_at_least(1)
NON_NEGATIVE_INT = int_at_least(0)
PROBABILITY = float_in(0.0, 1.0)
NON_NEGATIVE_FLOAT = float_in(0.0, math.inf)
