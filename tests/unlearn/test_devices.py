"""--device parsed, checked against a (fake) machine, and verified on the loaded model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import unlearn.devices as devices
from unlearn.errors import UserError


@pytest.fixture
def two_gpus(monkeypatch):
    monkeypatch.setattr(devices, "cuda_device_count", lambda: 2)


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(devices, "cuda_device_count", lambda: 0)


def test_default_follows_the_probe(monkeypatch):
    monkeypatch.setattr(devices, "cuda_device_count", lambda: 1)
    assert devices.resolve_device(None) == torch.device("cuda")
    monkeypatch.setattr(devices, "cuda_device_count", lambda: 0)
    assert devices.resolve_device(None) == torch.device("cpu")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("bogus", "is not a device"),
        ("cuda", "CUDA is not available"),
        ("cuda:1", "CUDA is not available"),
        ("xla", "unsupported device type"),
    ],
)
def test_unavailable_devices_are_one_line(no_gpu, text, fragment):
    with pytest.raises(UserError, match=fragment):
        devices.resolve_device(text)


def test_a_gpu_index_beyond_the_machine_is_refused(two_gpus):
    assert devices.resolve_device("cuda:1") == torch.device("cuda:1")
    with pytest.raises(UserError, match="2 CUDA device"):
        devices.resolve_device("cuda:2")


def test_a_model_left_on_another_device_is_caught():
    model = nn.Linear(2, 2)
    devices.check_on_device(model, torch.device("cpu"), "m")
    with pytest.raises(UserError, match="not on the requested --device cuda"):
        devices.check_on_device(model, torch.device("cuda"), "m")


def test_cuda_matches_any_index_and_an_index_must_match():
    assert devices.same_device(torch.device("cuda:0"), torch.device("cuda"))
    assert not devices.same_device(torch.device("cuda:0"), torch.device("cuda:1"))
    assert not devices.same_device(torch.device("cpu"), torch.device("cuda"))


@pytest.mark.integration
def test_the_bridge_is_moved_to_and_checked_on_the_requested_device(tiny_base, monkeypatch):
    """load() hands the device to the HF loader (the bridge alone would only record it) and
    checks the parameters afterwards."""
    import relearn_interp.load as load_module

    asked = {}
    real = load_module.load_model

    def spy(name, **kwargs):
        asked.update(kwargs)
        return real(name, **kwargs)

    monkeypatch.setattr(load_module, "load_model", spy)
    bridge = load_module.load(tiny_base, device="cpu")
    assert asked["device"] == torch.device("cpu")
    assert {p.device.type for p in bridge.parameters()} == {"cpu"}


@pytest.mark.integration
def test_a_model_the_bridge_only_records_on_cuda_is_refused(tiny_base, monkeypatch):
    """The bug this guards: given a built model, the bridge records `device` but moves nothing.
    On a (fake) CUDA machine whose loader leaves the model on the CPU, load() must refuse."""
    import relearn_interp.load as load_module

    monkeypatch.setattr(devices, "cuda_device_count", lambda: 1)
    real = load_module.load_model
    monkeypatch.setattr(
        load_module, "load_model", lambda name, **kwargs: real(name, **{**kwargs, "device": None})
    )
    with pytest.raises(UserError, match="on cpu, not on the requested --device cuda"):
        load_module.load(tiny_base, device="cuda")
