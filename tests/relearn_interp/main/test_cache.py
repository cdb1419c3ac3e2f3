"""The main job's memory accounting: the sampled peak includes child processes."""

from __future__ import annotations

import subprocess
import sys

from relearn_interp.main.cache import TreeMemory, tree_rss_mb

CHILD = (
    "import time; block = bytearray(300 * 2**20); block[::4096] = b'x' * len(block[::4096]); "
    "time.sleep(1.5)"
)


def test_tree_memory_counts_a_child_process():
    before = tree_rss_mb()
    with TreeMemory(interval=0.05) as memory:
        subprocess.run([sys.executable, "-c", CHILD], check=True)
    assert memory.peak - before >= 250  # the child's 300 MB were seen while it lived
    assert tree_rss_mb() < memory.peak - 250  # and are gone with it
    with TreeMemory(interval=0.05) as idle:
        pass
    assert idle.peak < memory.peak - 250  # each block starts its own window
