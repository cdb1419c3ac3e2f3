"""Checkpoint resolution: an unknown model names the presets, a folder without weights is
refused."""

from __future__ import annotations

import pytest

from unlearn.errors import UserError
from unlearn.models.loading import resolve_model


def test_unknown_model_is_refused_with_the_presets():
    with pytest.raises(UserError, match="tiny, smollm2-135m"):
        resolve_model("tinyy")


def test_folder_without_weights_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="holds no weights"):
        resolve_model(tmp_path)
