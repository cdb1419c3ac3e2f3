"""Fixtures of the evaluation tests: one torch thread."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def single_thread(one_thread):
    """Every evaluation test on one torch thread: tiny models generate several times faster."""
