"""The error boundary of both CLIs: unexpected errors, argparse errors, interrupts, figure names."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

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


@pytest.mark.integration
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


@pytest.mark.integration
def test_ctrl_c_while_shift_draws_leaves_nothing(tiny_base, bench_dir, tmp_path, monkeypatch):
    import relearn_interp.plots.shift as shift_plots

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(shift_plots, "plot_shift", interrupted)
    argv = ["shift", "--base", f"base={tiny_base}", "--ckpt", f"other={tiny_base}"]
    argv += ["--data", f"ours:{bench_dir}#forget10", "--out", str(tmp_path / "shift")]
    assert interp_main([*argv, "--max-prompts", "2", "--device", "cpu"]) == 130
    assert list(tmp_path.iterdir()) == []


def test_a_killed_runs_lock_and_temporary_folder_are_taken_over_by_the_next_run(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # its pid is now free: the writer of the lock and the debris below has died
    out = tmp_path / "bench"
    (tmp_path / ".bench.lock").write_text(f"{child.pid}\n")
    debris = tmp_path / f".bench.tmp-{child.pid}-x"
    debris.mkdir()
    (debris / "forget10.json").write_text("[")
    assert unlearn_main(["data", "build", "--out", str(out), "--authors", "2"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["bench"]
    assert (out / "forget10.json").is_file()


def test_figures_are_written_through_temporary_names_of_this_process(tmp_path, monkeypatch):
    from relearn_interp.plots import style

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
