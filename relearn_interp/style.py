"""One plotting style for every figure: readable fonts, and one fixed colour and order per method."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

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
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "legend.frameon": False,
        }
    )


MAX_PNG_SIDE = 4000  # pixels: a 30-layer circuit at 200 dpi would be an 8,000-pixel, 7 MB PNG


def save_figure(fig: plt.Figure, out_stem: str | Path) -> list[Path]:
    """Save PNG and PDF (each written then renamed) and close the figure. Large figures get a lower
    PNG resolution so their longer side stays near MAX_PNG_SIDE; the PDF keeps every detail."""
    import os

    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".pdf"):
        final = out_stem.with_suffix(suffix)
        tmp = final.with_name(f".{final.name}.tmp{suffix}")
        # No creation date in PDFs, so redrawing the same results gives the same bytes.
        if suffix == ".png":
            chosen = plt.rcParams["savefig.dpi"]
            base = fig.dpi if chosen == "figure" else chosen
            dpi = min(base, MAX_PNG_SIDE / max(fig.get_size_inches()))
            fig.savefig(tmp, dpi=dpi)
        else:
            fig.savefig(tmp, metadata={"CreationDate": None})
        os.replace(tmp, final)
        written.append(final)
    plt.close(fig)
    return written
