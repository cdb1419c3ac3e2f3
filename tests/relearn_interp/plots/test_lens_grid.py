"""The cross-layer decoding figure: which layers and positions it shows, the gold marks, and the
prompt it draws (`--prompt`), whose grid the lens keeps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import PatchCollection

from relearn_interp.cli import main
from relearn_interp.lens.run import logit_lens
from relearn_interp.load import load
from relearn_interp.plots.lens_grid import (
    CELL_FONT_PT,
    _panel,
    answer_window,
    grid_item,
    layer_rows,
    plot_lens_heatmap,
)
from relearn_interp.plots.style import recording
from unlearn.errors import UserError
from unlearn.io import read_json


def test_about_eleven_layer_rows_and_always_the_last():
    assert layer_rows(30) == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 29]
    assert layer_rows(4) == [0, 1, 2, 3]
    assert layer_rows(12) == list(range(12))
    for n_layers in (16, 24, 32, 40, 80):
        rows = layer_rows(n_layers)
        assert 8 <= len(rows) <= 13 and rows[0] == 0 and rows[-1] == n_layers - 1


def test_a_long_answer_is_cut_to_a_window_that_holds_the_knowledge_slot():
    assert answer_window(9, 5) == range(9)
    for slot in (0, 10, 29):
        window = answer_window(30, slot, 16)
        assert len(window) == 16 and slot in window
    assert answer_window(30, 10, None) == range(30)


def test_cells_whose_top_token_is_the_gold_token_are_framed_and_bold(smollm2_shaped_run):
    results = smollm2_shaped_run.lens[smollm2_shaped_run.forget_split]
    item = results["items"][0]
    record = item["checkpoints"]["ga_gdr"]
    rows, window = layer_rows(30), answer_window(len(item["answer_tokens"]), 10)
    fig, ax = plt.subplots()
    _panel(ax, record, item, results["values"]["sites"], rows, window)
    gold = [
        (r, c)
        for r, site in enumerate(rows)
        for c, position in enumerate(window)
        if record["grid_top_token"][site][position] == item["answer_tokens"][position]
    ]
    (frames,) = [c for c in ax.collections if isinstance(c, PatchCollection)]
    corners = sorted((round(p[0][1] + 0.5), round(p[0][0] + 0.5)) for p in frames.get_paths()
                     for p in [p.vertices])  # fmt: skip
    assert 0 < len(gold) < len(rows) * len(window) and corners == sorted(gold)
    cells = [t for t in ax.texts if t.get_fontsize() == CELL_FONT_PT]
    assert len(cells) == len(rows) * len(window)
    assert sum(t.get_fontweight() == "bold" for t in cells) == len(gold)
    slot = ax.get_xticklabels()[window.index(item["target_index"])]
    assert slot.get_fontweight() == "bold" and slot.get_bbox_patch() is not None
    plt.close(fig)


def test_the_chosen_prompt_is_drawn_and_an_unknown_one_refused(smollm2_shaped_run, tmp_path):
    results = dict(smollm2_shaped_run.lens[smollm2_shaped_run.forget_split])
    assert grid_item(results)["id"] == "fact00"
    results["meta"] = {**results["meta"], "heatmap_prompt": "fact02"}
    assert grid_item(results)["id"] == "fact02"
    with pytest.raises(UserError, match="no layer × position grid for prompt 'fact07'"):
        grid_item(results, "fact07")  # its grid was not kept


@pytest.fixture(scope="module")
def records(world):
    return world.split("forget10")[:6]


@pytest.mark.integration
def test_the_lens_keeps_the_grid_of_the_chosen_prompt(tiny_base, records):
    model = load(tiny_base, device="cpu")
    chosen = records[4].id
    results = logit_lens(
        {"tiny": model}, records, grid_items=1, heatmap_prompt=chosen, progress=False
    )
    kept = [
        item["id"] for item in results["items"] if "grid_top_token" in item["checkpoints"]["tiny"]
    ]
    assert kept == [records[0].id, chosen] and results["meta"]["heatmap_prompt"] == chosen
    assert grid_item(results)["id"] == chosen
    assert logit_lens({"tiny": model}, records[:2], progress=False)["meta"]["heatmap_prompt"] == (
        records[0].id
    )
    with pytest.raises(UserError, match="--prompt 'nobody-nothing' is not among the prompts"):
        logit_lens({"tiny": model}, records, heatmap_prompt="nobody-nothing", progress=False)


@pytest.mark.integration
def test_cli_draws_the_chosen_prompt_and_the_full_grid(vanilla_ckpt, bench_dir, records, tmp_path):
    chosen = records[3]
    out = tmp_path / "lens"
    argv = ["logit-lens", "--ckpt", str(vanilla_ckpt), "--data", f"ours:{bench_dir}#forget10",
            "--out", str(out), "--prompt", chosen.id, "--heatmap-items", "1", "--full-heatmap",
            "--device", "cpu"]  # fmt: skip
    with recording() as saved:
        assert main(argv) == 0
    assert read_json(out / "logit_lens.json")["meta"]["heatmap_prompt"] == chosen.id
    by_name = {figure.paths[0].name: figure for figure in saved}
    assert set(by_name) == {
        "logit_lens_layers.png", "logit_lens_heatmap.png", "logit_lens_heatmap_full.pdf"
    }  # fmt: skip
    for name in ("logit_lens_heatmap.png", "logit_lens_heatmap_full.pdf"):
        titles = [text for text, _ in by_name[name].texts if "Cross-layer decoding" in text]
        assert titles and chosen.question in " ".join(titles[0].split())  # the title is wrapped
    assert (out / "logit_lens_heatmap_full.pdf").stat().st_size > 10_000


def test_the_full_grid_shows_every_layer_and_position(smollm2_shaped_run, tmp_path):
    results = smollm2_shaped_run.lens[smollm2_shaped_run.forget_split]
    one = {"vanilla": results["items"][0]["checkpoints"]["vanilla"]}  # one panel keeps it quick
    results = {**results, "items": [{**results["items"][0], "checkpoints": one}]}
    with recording() as saved:
        written = plot_lens_heatmap(results, tmp_path / "full", full=True)
    assert [p.suffix for p in written] == [".pdf"]
    layers = {text for text, _ in saved[0].texts if text.startswith("L") and text[1:].isdigit()}
    assert layers == {f"L{layer}" for layer in range(30)}
    n_cells = sum(size == CELL_FONT_PT for _, size in saved[0].texts)
    assert n_cells == 30 * len(results["items"][0]["answer_tokens"])  # no window: all 17
    assert saved[0].smallest_pt >= CELL_FONT_PT
