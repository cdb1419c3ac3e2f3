"""One plotting style for every figure: readable fonts, and one fixed colour and order per method."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from PIL import Image  # noqa: E402

from unlearn.outputs import sweep_stale, temp_prefix  # noqa: E402

MAX_PNG_SIDE = 4000  # pixels: a 30-layer circuit at 200 dpi would be an 8,000-pixel, 7 MB PNG
NOMINAL_DPI = 200  # the PNG resolution every font size is chosen for
MIN_FONT_PT = 7.0  # the smallest text a figure may carry, in points at NOMINAL_DPI


# Fixed order and colour for each method, across every figure of the project.
METHOD_ORDER: tuple[str, ...] = (
    "vanilla",
    "ga",
    "ga_gdr",
    "ga_klr",
    "ga_sure",
    "ga_gdr_sure",
    "ga_klr_sure",
    "npo",
    "npo_gdr",
    "npo_klr",
    "npo_sure",
    "npo_gdr_sure",
    "npo_klr_sure",
    "relearn",
    "relearn_gdr",
    "relearn_klr",
)
_FAMILY_COLOURS = {
    "vanilla": "#4d4d4d",
    "ga": "#d62728",
    "ga_gdr": "#e8575a",
    "ga_klr": "#b21f1f",
    "ga_sure": "#ff7f0e",
    "ga_gdr_sure": "#ffa54f",
    "ga_klr_sure": "#cc6600",
    "npo": "#1f77b4",
    "npo_gdr": "#5fa2d6",
    "npo_klr": "#17507d",
    "npo_sure": "#9467bd",
    "npo_gdr_sure": "#b594d6",
    "npo_klr_sure": "#6b4a8c",
    "relearn": "#2ca02c",
    "relearn_gdr": "#66c266",
    "relearn_klr": "#1b701b",
}
_EXTRA = sns.color_palette("Set2", 8).as_hex()


def method_colour(name: str) -> str:
    """The colour of a method (by checkpoint label); unknown names get a stable extra colour."""
    key = name.lower()
    if key in _FAMILY_COLOURS:
        return _FAMILY_COLOURS[key]
    return _EXTRA[sum(map(ord, key)) % len(_EXTRA)]


def method_sort_key(name: str) -> tuple[int, str]:
    key = name.lower()
    return (METHOD_ORDER.index(key) if key in METHOD_ORDER else len(METHOD_ORDER), key)


def order_methods(names: list[str]) -> list[str]:
    """Methods in the project's fixed order (vanilla first, ReLearn last), unknown ones after."""
    return sorted(names, key=method_sort_key)


def apply_style() -> None:
    """Publication style: white grid, readable fonts, tight layout."""
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.25)
    plt.rcParams.update(
        {
            "figure.dpi": 120,
            "savefig.dpi": NOMINAL_DPI,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "legend.frameon": False,
        }
    )


@dataclass(frozen=True)
class SavedFigure:
    """What one save wrote, for checking readability: the files, the PNG's pixel size, and each
    visible text with its size in points at NOMINAL_DPI (a PNG saved at a lower resolution to stay
    under MAX_PNG_SIDE shrinks its text by the same factor; a PDF-only figure keeps its sizes)."""

    paths: tuple[Path, ...]
    png_px: tuple[int, int] | None
    texts: tuple[tuple[str, float], ...]

    @property
    def smallest_pt(self) -> float:
        return min((size for _, size in self.texts), default=float("inf"))


def readability_problems(saved: list[SavedFigure]) -> list[str]:
    """Every PNG longer than MAX_PNG_SIDE and every text under MIN_FONT_PT (at the PNG's
    resolution), one line each; empty when every figure reads at 100% zoom."""
    found = []
    for figure in saved:
        name = figure.paths[0].name
        if figure.png_px is not None and max(figure.png_px) > MAX_PNG_SIDE:
            found.append(f"{name}: {figure.png_px[0]} × {figure.png_px[1]} px")
        found += [
            f"{name}: {text!r} at {size:.1f} pt"
            for text, size in figure.texts
            if size < MIN_FONT_PT - 1e-6
        ]
    return found


_recorders: list[list[SavedFigure]] = []


@contextmanager
def recording() -> Iterator[list[SavedFigure]]:
    """Collect a SavedFigure for every figure saved inside the block (used by the readability test)."""
    saved: list[SavedFigure] = []
    _recorders.append(saved)
    try:
        yield saved
    finally:
        _recorders.remove(saved)


def visible_texts(fig: plt.Figure) -> list[Text]:
    """Every text artist drawn on the figure (non-empty, visible, not inside a hidden axes)."""
    return [
        text
        for text in fig.findobj(Text)
        if text.get_visible()
        and text.get_text().strip()
        and (text.axes is None or text.axes.get_visible())
    ]


def _record(fig: plt.Figure, paths: list[Path], png_dpi: float | None) -> None:
    if not _recorders:
        return
    scale = 1.0 if png_dpi is None else png_dpi / NOMINAL_DPI
    png = next((p for p in paths if p.suffix == ".png"), None)
    record = SavedFigure(
        tuple(paths),
        Image.open(png).size if png else None,
        tuple((t.get_text(), t.get_fontsize() * scale) for t in visible_texts(fig)),
    )
    for saved in _recorders:
        saved.append(record)


def png_dpi(fig: plt.Figure) -> float:
    """The PNG resolution: NOMINAL_DPI, lowered for large figures so the longer side stays near
    MAX_PNG_SIDE."""
    chosen = plt.rcParams["savefig.dpi"]
    base = fig.dpi if chosen == "figure" else chosen
    return min(base, MAX_PNG_SIDE / max(fig.get_size_inches()))


def _write(fig: plt.Figure, final: Path, **kwargs) -> Path:
    """Save to a temporary name of this process, then rename (no half-written figure, and two
    processes drawing the same figure never share a temporary file)."""
    sweep_stale(final)
    tmp = final.with_name(f"{temp_prefix(final, 'tmp')}{uuid.uuid4().hex[:8]}{final.suffix}")
    try:
        fig.savefig(tmp, format=final.suffix.lstrip("."), **kwargs)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def _bbox(fig: plt.Figure, tight: bool) -> dict:
    """savefig's bbox argument: the style's tight crop, or the whole figure for one that places
    every text inside itself (no crop to compute: one draw per file, for figures of many texts)."""
    return {} if tight else {"bbox_inches": fig.bbox_inches}


def save_figure(fig: plt.Figure, out_stem: str | Path, tight: bool = True) -> list[Path]:
    """Save PNG and PDF (each written then renamed) and close the figure. Large figures get a lower
    PNG resolution so their longer side stays near MAX_PNG_SIDE; the PDF keeps every detail."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    dpi = png_dpi(fig)
    written = [
        _write(fig, out_stem.with_suffix(".png"), dpi=dpi, **_bbox(fig, tight)),
        # No creation date in PDFs, so redrawing the same results gives the same bytes.
        _write(
            fig, out_stem.with_suffix(".pdf"), metadata={"CreationDate": None}, **_bbox(fig, tight)
        ),
    ]
    _record(fig, written, dpi)
    plt.close(fig)
    return written


def save_pdf(fig: plt.Figure, out_stem: str | Path, tight: bool = True) -> list[Path]:
    """Save a PDF only (a figure too large for a readable PNG, read by zooming) and close it."""
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"CreationDate": None}
    written = [_write(fig, out_stem.with_suffix(".pdf"), metadata=metadata, **_bbox(fig, tight))]
    _record(fig, written, None)
    plt.close(fig)
    return written
