"""The error boundary of both CLIs: unexpected errors, argparse errors, interrupts, figure names."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib.pyplot as plt

from relearn_interp.cli import main as interp_main
from unlearn.cli import main as unlearn_main


def test_an_unexpected_error_is_one_line_with_the_log_of_its_traceback(monkeypatch, capsys):
    import unlearn.commands.compare as compare

    def broken(args):
        raise RuntimeError("something nobody foresaw\nsecond line")

    monkeypatch.setattr(compare, "run", broken)
    assert unlearn_main(["compare", "x.json"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something nobody foresaw" in err
    log = Path(re.search(r"the traceback is in (\S+)", err).group(1))
    assert "Traceback" in log.read_text() and "broken" in log.read_text()
    log.unlink()


def test_argparse_errors_are_one_line(capsys):
    try:
        interp_main(["logit-lens", "--ckpt", "tiny", "--data", "d", "--out", "o", "--top-k", "x"])
    except SystemExit as stop:
        assert stop.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--top-k: expected an integer, got 'x'" in err


def test_ctrl_c_while_drawing_leaves_nothing_and_a_rerun_succeeds(
    tiny_base, bench_dir, tmp_path, monkeypatch, capsys
):
    import relearn_interp.plots.lens as lens_plots

    out = tmp_path / "lens"
    argv = ["logit-lens", "--ckpt", str(tiny_base), "--data", f"ours:{bench_dir}#forget10"]
    argv += ["--out", str(out), "--max-prompts", "2", "--device", "cpu", "--positions", "slots"]
    real = lens_plots.plot_lens_heatmap

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lens_plots, "plot_lens_heatmap", interrupted)
    assert interp_main(argv) == 130
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(lens_plots, "plot_lens_heatmap", real)
    assert interp_main(argv) == 0  # no --overwrite needed: nothing was left behind
    assert {"logit_lens.json", "logit_lens_layers.png", "logit_lens_heatmap.pdf"} <= {
        p.name for p in out.iterdir()
    }


def test_figures_are_written_through_temporary_names_of_this_process(tmp_path, monkeypatch):
    from relearn_interp import style

    used = []
    real = plt.Figure.savefig

    def spy(fig, path, **kwargs):
        used.append(Path(path).name)
        return real(fig, path, **kwargs)

    monkeypatch.setattr(plt.Figure, "savefig", spy)
    for _ in range(2):
        style.save_figure(plt.figure(), tmp_path / "fig")
    assert all(f"-{os.getpid()}-" in name for name in used)
    assert len(set(used)) == len(used) == 4  # never one fixed name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf", "fig.png"]
