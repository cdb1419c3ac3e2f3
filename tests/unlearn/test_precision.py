"""`auto` mixed precision: bf16 only where the device runs it natively, recorded where it ran."""

from __future__ import annotations

import pytest
import torch

from unlearn import precision
from unlearn.data.loaders import load_data
from unlearn.errors import UserError
from unlearn.models.loading import load_model
from unlearn.precision import describe, native_bf16, precision_record, resolve_mixed_precision


@pytest.fixture
def cpu_bf16(monkeypatch):
    """Set what the CPU capability probe reports (native bf16 or not)."""

    def set_native(native: bool) -> None:
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: native)
        monkeypatch.setattr(precision, "_warned", set())
        for cap in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
            monkeypatch.delenv(cap, raising=False)

    return set_native


@pytest.mark.parametrize(
    ("cap", "native"), [("AVX2", False), ("avx512_core", False), ("ALL", True)]
)
def test_a_onednn_isa_cap_below_bf16_counts_as_no_native_bf16(cpu_bf16, monkeypatch, cap, native):
    cpu_bf16(True)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert native_bf16("cpu") is native
    assert resolve_mixed_precision("auto", "cpu") == ("bf16" if native else "no")
    assert precision_record("no", "cpu")["onednn_isa_cap"] == cap.upper()


@pytest.mark.parametrize(("native", "resolved"), [(False, "no"), (True, "bf16")])
def test_auto_follows_the_capability_probe(cpu_bf16, native, resolved):
    cpu_bf16(native)
    assert native_bf16("cpu") is native
    assert resolve_mixed_precision("auto", "cpu") == resolved
    assert resolve_mixed_precision("no", "cpu") == "no"


def test_auto_on_cuda_asks_torch(monkeypatch):
    import unlearn.devices

    monkeypatch.setattr(unlearn.devices, "cuda_device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for supported, resolved in ((True, "bf16"), (False, "no")):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda s=supported: s)
        assert resolve_mixed_precision("auto", "cuda") == resolved


def test_explicit_bf16_without_native_runs_after_one_warning_line(cpu_bf16, capsys):
    cpu_bf16(False)
    assert resolve_mixed_precision("bf16", "cpu") == "bf16"
    assert resolve_mixed_precision("bf16", "cpu") == "bf16"
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "many times" in lines[0] and "slower" in lines[0]
    cpu_bf16(True)
    resolve_mixed_precision("bf16", "cpu")
    assert capsys.readouterr().err == ""


def test_bad_values_are_one_line():
    with pytest.raises(UserError, match="mixed precision 'fp8' is not one of auto, no, bf16"):
        resolve_mixed_precision("fp8", "cpu")
    with pytest.raises(UserError, match="--device 'bogus' is not a device"):
        resolve_mixed_precision("auto", "bogus")


def test_the_record_names_the_arithmetic_and_the_hardware(cpu_bf16):
    cpu_bf16(False)
    record = precision_record("no", "cpu", "auto")
    assert record["mixed_precision"] == "no" and record["requested"] == "auto"
    assert record["native_bf16"] is False
    assert record["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    text = describe(record)
    assert "no autocast" in text and "asked: auto" in text and "no native bf16" in text


@pytest.mark.parametrize(("native", "resolved"), [(False, "no"), (True, "bf16")])
def test_the_loop_autocasts_only_what_auto_resolves_to(
    cpu_bf16, tiny_base, bench_dir, native, resolved
):
    from unlearn.methods import METHODS
    from unlearn.training.config import TrainConfig
    from unlearn.training.data import encode_pairs
    from unlearn.training.loop import TrainLoop

    cpu_bf16(native)
    model, tokenizer = load_model(tiny_base)
    pairs = [(r.question, r.answer) for r in load_data(f"ours:{bench_dir}#forget10")[:4]]
    config = TrainConfig(epochs=1, batch_size=4, mixed_precision="auto")
    items = encode_pairs(tokenizer, pairs, 256)
    loop = TrainLoop(model, METHODS["ga"], items, [], config, tokenizer.pad_token_id)
    seen = []
    layer = loop.model.model.layers[0].mlp.down_proj
    handle = layer.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    loop._train_step(loop._groups(0)[0])
    handle.remove()
    assert loop.mixed_precision == resolved
    assert seen[0] == (torch.bfloat16 if native else torch.float32)


@pytest.mark.integration
def test_the_card_records_the_resolved_precision(cpu_bf16, vanilla_ckpt, bench_dir, tmp_path):
    from unlearn.training.config import TrainConfig
    from unlearn.training.run import train

    cpu_bf16(False)
    config = TrainConfig(epochs=1, batch_size=8, max_steps=1, mixed_precision="auto")
    card = train("ga", vanilla_ckpt, f"ours:{bench_dir}#forget10", None, tmp_path / "ga", config)
    assert card["hyperparameters"]["mixed_precision"] == "no"
    assert card["precision"]["mixed_precision"] == "no"
    assert card["precision"]["requested"] == "auto" and card["precision"]["native_bf16"] is False
