"""Shared figure style: one colour per method everywhere, bounded PNG size, reproducible PDFs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from PIL import Image

from relearn_interp.plots.style import MAX_PNG_SIDE, apply_style, method_colour, save_figure


def test_large_figures_get_a_bounded_png_and_small_ones_full_resolution(tmp_path):
    apply_style()
    big, ax = plt.subplots(figsize=(40, 10))
    ax.plot([0, 1], [0, 1])
    save_figure(big, tmp_path / "big")
    small, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    save_figure(small, tmp_path / "small")
    assert max(Image.open(tmp_path / "big.png").size) <= MAX_PNG_SIDE
    assert max(Image.open(tmp_path / "small.png").size) > 4 * 0.8 * 200 - 1  # 200 dpi kept
    first = (tmp_path / "small.pdf").read_bytes()
    again, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    save_figure(again, tmp_path / "small")
    assert (tmp_path / "small.pdf").read_bytes() == first


def test_each_method_keeps_one_colour_and_methods_differ():
    names = ["vanilla", "ga_gdr", "npo_gdr", "ga_gdr_sure", "npo_gdr_sure", "relearn"]
    colours = [method_colour(n) for n in names]
    assert len(set(colours)) == len(names)
    assert colours == [method_colour(n) for n in names]
