"""The cross-layer decoding figure: for one prompt, what the logit lens reads at each layer and
answer position of each checkpoint, sized to be read at 100% zoom.

Rows are every k-th decoded layer (k chosen so about 11 rows remain) plus the last; columns are
the answer positions only (the gold tokens after the question, at most MAX_POSITIONS around the
knowledge slot); one panel per checkpoint, at most three side by side. Cell text is the lens's
top-1 token at CELL_FONT_PT points, colour the gold token's probability; a framed bold cell is
one where the top-1 token is the gold token. `full=True` draws every layer and position into a
PDF only (too large for a readable PNG; read it by zooming).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from relearn_interp.plots.style import (
    apply_style,
    method_colour,
    order_methods,
    save_figure,
    save_pdf,
)
from unlearn.errors import UserError

TARGET_ROWS = 11
MAX_POSITIONS = 16
MAX_COLUMNS = 3
MAX_WIDTH_IN = 19.5  # at 200 dpi the PNG stays under MAX_PNG_SIDE, so no text shrinks
CELL_FONT_PT = 8.0
LABEL_FONT_PT = 9.0
CELL_W_IN, CELL_H_IN = 0.52, 0.27
GOLD_FRAME = "#ff2bd6"  # not a method colour, and visible on every viridis shade
TITLE_PT, TITLE_LINE_IN = 11.0, 0.22


def short_token(text: str, width: int = 7) -> str:
    """A token for a figure: visible whitespace, cut to `width` characters."""
    text = text.replace("\n", "\\n").replace(" ", "␣")
    return text if len(text) <= width else text[: width - 1] + "…"


def layer_rows(n_sites: int, target: int = TARGET_ROWS) -> list[int]:
    """Every k-th site from the first, plus the last, with k chosen so about `target` rows remain
    (all sites when there are at most target + 1)."""
    if n_sites <= target + 1:
        return list(range(n_sites))

    def rows(step: int) -> list[int]:
        return [*range(0, n_sites - 1, step), n_sites - 1]

    step = min(range(1, n_sites), key=lambda k: (abs(len(rows(k)) - target), len(rows(k))))
    return rows(step)


def answer_window(n_positions: int, slot: int, limit: int | None = MAX_POSITIONS) -> range:
    """The answer positions shown: all of them, or `limit` of them that hold the knowledge slot."""
    if limit is None or n_positions <= limit:
        return range(n_positions)
    start = min(max(slot - limit // 3, 0), n_positions - limit)
    return range(start, start + limit)


def grid_item(results: dict, item_id: str | None = None) -> dict:
    """The prompt to draw: `item_id`, else the one the run chose (meta `heatmap_prompt`), else the
    first prompt whose per-position grid was kept."""
    item_id = item_id or results["meta"].get("heatmap_prompt")
    items = [
        item
        for item in results["items"]
        if all("grid_gold_prob" in c for c in item["checkpoints"].values())
    ]
    if item_id is not None:
        items = [item for item in items if item["id"] == item_id]
    if not items:
        where = f"prompt {item_id!r}" if item_id else "any prompt"
        raise UserError(
            f"the logit-lens results hold no layer × position grid for {where}; rerun "
            "`relearn-interp logit-lens` with --prompt ID (or a larger --heatmap-items)"
        )
    return items[0]


@dataclass(frozen=True)
class Layout:
    """Where every panel goes, in inches: fixed margins around cells of a fixed size, so the text
    stays CELL_FONT_PT whatever the prompt (no layout engine, hence one draw per saved file)."""

    n_panels: int
    n_rows: int  # cells per panel
    n_cols: int
    capped: bool  # keep the width under MAX_WIDTH_IN (the PNG), or not (the full PDF)
    title_lines: int = 2

    left, gap, right = 0.45, 0.55, 1.1  # y label; tick labels between panels; colour bar
    head, foot = 0.35, 0.7  # panel title; rotated x tick labels

    @property
    def top(self) -> float:
        return 0.3 + TITLE_LINE_IN * self.title_lines

    @property
    def columns(self) -> int:
        fit = math.floor((MAX_WIDTH_IN - self.left - self.right) / self.panel_w)
        return min(MAX_COLUMNS, self.n_panels, max(1, fit) if self.capped else MAX_COLUMNS)

    @property
    def panel_w(self) -> float:
        return self.gap + CELL_W_IN * self.n_cols

    @property
    def panel_h(self) -> float:
        return self.head + CELL_H_IN * self.n_rows + self.foot

    @property
    def size(self) -> tuple[float, float]:
        rows = math.ceil(self.n_panels / self.columns)
        return (
            self.left + self.columns * self.panel_w + self.right,
            self.top + rows * self.panel_h,
        )

    def axes_box(self, index: int) -> list[float]:
        """[left, bottom, width, height] of panel `index`, as figure fractions."""
        width, height = self.size
        row, column = divmod(index, self.columns)
        x = self.left + column * self.panel_w + self.gap
        y = height - self.top - row * self.panel_h - self.head - CELL_H_IN * self.n_rows
        return [
            x / width,
            y / height,
            CELL_W_IN * self.n_cols / width,
            CELL_H_IN * self.n_rows / height,
        ]

    def colorbar_box(self) -> list[float]:
        width, height = self.size
        span = min(height - self.top - self.head - self.foot, 3.0)
        bottom = height - self.top - self.head - span
        return [(width - self.right + 0.25) / width, bottom / height, 0.18 / width, span / height]


def _panel(ax, record: dict, item: dict, sites: list[dict], rows: list[int], window: range):
    """One checkpoint's cells: colour = gold probability, text = top-1 token, gold frames."""
    gold = np.asarray(record["grid_gold_prob"], dtype=float)[np.ix_(rows, list(window))]
    image = ax.imshow(gold, origin="lower", aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    answer = item["answer_tokens"]
    frames = []
    for r, site in enumerate(rows):
        for c, position in enumerate(window):
            token = record["grid_top_token"][site][position]
            is_gold = token == answer[position]
            ax.text(c, r, short_token(token, 6), ha="center", va="center", fontsize=CELL_FONT_PT,
                    color="black" if gold[r, c] > 0.55 else "white",
                    fontweight="bold" if is_gold else "normal")  # fmt: skip
            if is_gold:
                frames.append(Rectangle((c - 0.5, r - 0.5), 1, 1))
    ax.add_collection(PatchCollection(frames, facecolor="none", edgecolor=GOLD_FRAME,
                                      linewidth=1.4, label="gold frames"))  # fmt: skip
    ax.set_xticks(range(len(window)), [short_token(answer[p]) for p in window],
                  fontsize=LABEL_FONT_PT, rotation=45, ha="right", rotation_mode="anchor")  # fmt: skip
    slot = item.get("target_index")
    if slot in window:
        label = ax.get_xticklabels()[window.index(slot)]
        label.set_fontweight("bold")
        label.set_bbox({"facecolor": "#ffe680", "edgecolor": "none", "pad": 1.0})
    ax.set_yticks(range(len(rows)), [sites[s]["label"] for s in rows], fontsize=LABEL_FONT_PT)
    ax.tick_params(length=0)
    ax.grid(False)
    return image


def _title(item: dict, every_layer: bool, rows: list[int], windowed: bool) -> str:
    step = "every layer" if every_layer else f"one layer in {rows[1] - rows[0]} and the last"
    shown = " (a window around the slot)" if windowed else ""
    return (
        f"Cross-layer decoding of “{item['question']}” — cells: the lens's top-1 token ({step}; "
        f"framed bold: it is the gold token); x: the gold answer tokens{shown}, knowledge slot "
        "highlighted"
    )


def plot_lens_heatmap(
    results: dict,
    out_stem: str | Path,
    item_id: str | None = None,
    full: bool = False,
    every: int | None = None,
) -> list[Path]:
    """The cross-layer decoding figure of one prompt (PNG and PDF), or with `full` every layer
    and answer position (PDF only). `every` fixes the layer step instead of about 11 rows."""
    apply_style()
    item = grid_item(results, item_id)
    sites = results["values"]["sites"]
    labels = order_methods(list(item["checkpoints"]))
    if full:
        rows = list(range(len(sites)))
    elif every:
        rows = sorted({*range(0, len(sites), every), len(sites) - 1})
    else:
        rows = layer_rows(len(sites))
    window = answer_window(
        len(item["answer_tokens"]), item.get("target_index", 0), None if full else MAX_POSITIONS
    )
    layout = Layout(len(labels), len(rows), len(window), capped=not full)
    title = _title(item, len(rows) == len(sites), rows, len(window) < len(item["answer_tokens"]))
    # about 0.55 em per character: wrap the title to the figure's width
    lines = textwrap.wrap(title, int(layout.size[0] * 72 / (0.55 * TITLE_PT)))
    layout = Layout(len(labels), len(rows), len(window), not full, len(lines))
    fig = plt.figure(figsize=layout.size)
    fig.suptitle("\n".join(lines), fontsize=TITLE_PT, y=1 - 0.15 / layout.size[1], va="top")
    image = None
    for index, label in enumerate(labels):
        ax = fig.add_axes(layout.axes_box(index))
        image = _panel(ax, item["checkpoints"][label], item, sites, rows, window)
        ax.set_title(label, color=method_colour(label), fontsize=11, fontweight="bold")
        if index % layout.columns == 0:
            ax.set_ylabel("layer", fontsize=LABEL_FONT_PT)
    fig.colorbar(image, cax=fig.add_axes(layout.colorbar_box()), label="gold-token probability")
    # the layout places every text inside the figure: no tight crop, so one draw per file
    if full:
        return save_pdf(fig, out_stem, tight=False)
    return save_figure(fig, out_stem, tight=False)
