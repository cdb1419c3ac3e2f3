"""Every figure the main job draws is readable where it is saved: no text under MIN_FONT_PT points
at the PNG's resolution (a PNG shrunk to stay under MAX_PNG_SIDE shrinks its text), no PNG longer
than MAX_PNG_SIDE pixels, and the cross-layer decoding figure's cells at CELL_FONT_PT or more.

Drawn from synthetic results in the saved formats (conftest.py), at the tiny preset's shape and at
smollm2's (30 layers, 17-token answers, six checkpoints), so no main job runs here.
"""

from __future__ import annotations

import pytest
from PIL import Image

from relearn_interp.plots.lens_grid import CELL_FONT_PT, MAX_POSITIONS, plot_lens_heatmap
from relearn_interp.plots.style import (
    MAX_PNG_SIDE,
    NOMINAL_DPI,
    SavedFigure,
    readability_problems,
    recording,
)
from relearn_interp.report.render import draw_figures


def report_figures(forget: str, retain: str) -> set[str]:
    """The files `draw_figures` must write."""
    per_split = ("logit_lens_{}_layers", "logit_lens_{}_heatmap", "shift_{}_entropy",
                 "shift_{}_rank", "shift_{}_mass")  # fmt: skip
    stems = [
        "metrics",
        "precision",
        "dose",
        *(s.format(x) for s in per_split for x in (forget, retain)),
    ]
    return {f"{stem}.{ext}" for stem in stems for ext in ("png", "pdf")} | {
        f"logit_lens_{forget}_heatmap_full.pdf"
    }


def problems(saved: list[SavedFigure]) -> list[str]:
    """`readability_problems`, after checking each PNG's recorded size against the file's."""
    for figure in saved:
        if figure.png_px is not None:
            assert Image.open(figure.paths[0]).size == figure.png_px
    return readability_problems(saved)


def check_report(run, tmp_path) -> None:
    with recording() as saved:
        draw_figures(run, tmp_path)
    written = {path.name for figure in saved for path in figure.paths}
    expected = report_figures(run.forget_split, run.retain_split)
    assert expected <= written, expected - written
    assert {"erasure_patching.png", "erasure_recovery.png"} <= written
    assert problems(saved) == []
    heatmaps = [f for f in saved if "heatmap" in f.paths[0].name]
    assert len(heatmaps) == 3 and all(f.smallest_pt >= CELL_FONT_PT for f in heatmaps)


def test_every_report_figure_is_readable_at_the_tiny_shape(tiny_shaped_run, tmp_path):
    check_report(tiny_shaped_run, tmp_path)


@pytest.mark.slow
def test_every_report_figure_is_readable_at_the_smollm2_shape(smollm2_shaped_run, tmp_path):
    check_report(smollm2_shaped_run, tmp_path)


def test_the_cross_layer_figure_reads_at_full_resolution_at_the_smollm2_shape(
    smollm2_shaped_run, tmp_path
):
    lens = smollm2_shaped_run.lens[smollm2_shaped_run.forget_split]
    with recording() as saved:
        plot_lens_heatmap(lens, tmp_path / "heatmap")
    (figure,) = saved
    assert problems(saved) == [] and figure.smallest_pt >= CELL_FONT_PT
    width, height = figure.png_px
    assert max(width, height) <= MAX_PNG_SIDE
    texts = [text for text, _ in figure.texts]
    layers = [t for t in texts if t.startswith("L") and t[1:].isdigit()]
    # every third of 30 layers and the last, in each of the six panels
    expected = [f"L{layer}" for layer in (*range(0, 28, 3), 29)]
    assert layers == expected * 6
    # saved at the nominal resolution: every cell keeps its CELL_FONT_PT (none shrunk)
    n_cells = sum(1 for t, size in figure.texts if size == CELL_FONT_PT)
    assert n_cells == len(expected) * MAX_POSITIONS * 6
    assert width / NOMINAL_DPI < 20 and height / NOMINAL_DPI < 20


def test_the_check_catches_small_text_and_text_shrunk_with_a_large_png(tmp_path):
    import matplotlib.pyplot as plt

    from relearn_interp.plots.style import apply_style, save_figure

    apply_style()
    small, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("fine", fontsize=10)
    ax.text(0.5, 0.5, "too small", fontsize=6)
    wide, ax = plt.subplots(figsize=(40, 3))  # saved at 100 dpi to stay under MAX_PNG_SIDE
    ax.set_title("halved", fontsize=10)
    with recording() as saved:
        save_figure(small, tmp_path / "small")
        save_figure(wide, tmp_path / "wide")
    found = problems(saved)
    assert "small.png: 'too small' at 6.0 pt" in found
    assert "wide.png: 'halved' at 5.0 pt" in found
    assert not any("'fine'" in line for line in found)
