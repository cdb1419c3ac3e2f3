"""The report writer leaves only its own figures in the folder it writes."""

from __future__ import annotations

from relearn_interp.report.render import remove_stale_figures


def test_report_figures_of_an_earlier_run_are_removed_and_other_files_kept(tmp_path):
    drawn = [tmp_path / name for name in ("metrics.png", "logit_lens_forget15_layers.png")]
    stale = ["logit_lens_forget10_layers.png", "shift_retain90_mass.pdf", "erasure_recovery.pdf"]
    other = ["notes.png", "REPORT.md", "claims.json", "paper.pdf"]
    for name in [p.name for p in drawn] + stale + other:
        (tmp_path / name).write_text("x")
    removed = remove_stale_figures(tmp_path, drawn)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([p.name for p in drawn] + other)
