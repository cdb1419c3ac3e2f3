"""`relearn-interp figures` reads the run summaries of earlier versions too."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from relearn_interp.commands.figures import check_run_summary
from relearn_interp.main.settings import ReproduceSettings
from unlearn.errors import UserError
from unlearn.io import write_json


def summary(settings: dict) -> dict:
    return {"settings": settings, "stages": [], "checkpoints": {}, "wall_seconds": 1.0,
            "peak_rss_mb": 1.0}  # fmt: skip


def test_a_summary_with_the_erasure_probes_as_flags_is_still_read(tmp_path):
    settings = asdict(ReproduceSettings.for_preset("tiny"))
    for key in ("erasure_max_new_tokens", "erasure_relearn_steps", "erasure_relearn_batch",
                "erasure_bits"):  # fmt: skip
        settings.pop(key)
    settings["erasure_args"] = ["--max-new-tokens", "32", "--bits", "8", "4"]
    write_json(tmp_path / "run.json", summary(settings))
    check_run_summary(tmp_path)
    write_json(tmp_path / "run.json", summary({**settings, "surprise": 1}))
    with pytest.raises(UserError, match="unknown key"):
        check_run_summary(tmp_path)
