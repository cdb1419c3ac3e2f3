"""Training settings: per-preset defaults picked by the method's family and SURE flag, the checks
that name a bad field, and `auto` mixed precision resolved for this machine."""

from __future__ import annotations

import pytest

from unlearn.errors import UserError
from unlearn.training.config import TrainConfig, resolved_precision


@pytest.mark.parametrize(
    ("preset", "method", "expected"),
    [
        ("tiny", "ga", {"lr": 5e-4, "epochs": 5, "batch_size": 8, "lora": False}),
        ("tiny", "npo_klr", {"lr": 5e-4, "epochs": 5}),
        ("tiny", "relearn_gdr", {"lr": 1.5e-3, "epochs": 4}),
        ("tiny", "ga_gdr_sure", {"lr": 1.5e-3, "epochs": 5}),  # the sure row over the family's
        ("smollm2-135m", "npo", {"lr": 1e-3, "lora": True, "mixed_precision": "auto"}),
        ("smollm2-135m", "relearn", {"lr": 2e-3, "epochs": 2}),
    ],
)
def test_preset_defaults_follow_the_methods_family(preset, method, expected):
    config = TrainConfig.for_preset(preset, method)
    assert {key: getattr(config, key) for key in expected} == expected


def test_overrides_win_unless_none_and_an_unknown_base_keeps_the_class_defaults(tmp_path):
    config = TrainConfig.for_preset("tiny", "ga", lr=1e-2, epochs=None)
    assert (config.lr, config.epochs) == (1e-2, 5)
    assert TrainConfig.for_preset(tmp_path / "no-such-model", "ga") == TrainConfig()
    with pytest.raises(UserError, match="unknown method 'gx'; valid methods: ga, ga_sure"):
        TrainConfig.for_preset("tiny", "gx")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lr", 0.0, "lr must be positive, got 0.0"),
        ("warmup_ratio", 1.5, r"warmup_ratio must be in \[0, 1\]"),
        ("kl_positions", "some", "kl_positions 'some' is not one of answer, all"),
        ("stop_at_recall", 1.0, r"stop_at_recall \(the forget-recall target\) must be in \[0, 1\)"),
        ("max_steps", 0, "max_steps must be >= 1"),
    ],
)
def test_check_names_the_bad_field(field, value, message):
    with pytest.raises(UserError, match=message):
        TrainConfig(**{field: value}).check()


def test_auto_mixed_precision_is_resolved_and_recorded():
    config, record = resolved_precision(TrainConfig(mixed_precision="auto"))
    assert config.mixed_precision in ("no", "bf16") and config.mixed_precision != "auto"
    assert record["requested"] == "auto" and record["mixed_precision"] == config.mixed_precision
    assert record["native_bf16"] == (config.mixed_precision == "bf16")
