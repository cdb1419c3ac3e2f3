"""The main job's settings: a method's stop rule by its family, and run summaries read back."""

from __future__ import annotations

from dataclasses import asdict

from relearn_interp.main.settings import LEGACY_SETTINGS, ReproduceSettings


def test_each_method_is_checked_as_often_as_its_family_says():
    settings = ReproduceSettings.for_preset("tiny")
    every = {method: settings.train_settings(method)["check_every"] for method in settings.methods}
    assert every == {"ga_gdr": 1, "npo_gdr": 1, "ga_gdr_sure": 1, "npo_gdr_sure": 1, "relearn": 4}


def test_a_run_summary_gives_back_its_settings_and_older_ones_still_read():
    settings = ReproduceSettings.for_preset("smollm2-135m", methods=("ga_gdr", "relearn"))
    summary = {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(settings).items()}
    assert ReproduceSettings.from_summary(summary) == settings
    older = {**summary, "erasure_args": ["--max-new-tokens", "32"]}
    assert "erasure_args" in LEGACY_SETTINGS
    assert ReproduceSettings.from_summary(older) == settings
