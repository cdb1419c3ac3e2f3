"""The broken inputs of the bad-input table (test_bad_input.py), built once per module."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest

from unlearn.io import write_json

GOOD_RESULTS = {
    "meta": {"name": "good", "backends": {"nli": "kb"}},
    "values": {"forget": {"KFR": 0.5, "n": 4}, "retain": {"KRR": 0.7, "n": 4}},
}
LATIN1_RESULTS = json.dumps(GOOD_RESULTS).replace("good", "gód").encode("latin-1")


def _ckpt_copy(tiny: Path, root: Path, name: str) -> Path:
    out = root / name
    shutil.copytree(tiny, out)
    return out


@pytest.fixture(scope="module")
def inputs(tiny_base, bench_dir, tmp_path_factory) -> dict[str, str]:
    """Every broken input of the table, built once."""
    root = tmp_path_factory.mktemp("bad")
    weights = (tiny_base / "model.safetensors").read_bytes()
    found = {"tiny": str(tiny_base), "bench": str(bench_dir)}

    garbage = _ckpt_copy(tiny_base, root, "garbage")
    (garbage / "model.safetensors").write_bytes(b"not a safetensors file")
    truncated = _ckpt_copy(tiny_base, root, "truncated")
    (truncated / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    no_config = _ckpt_copy(tiny_base, root, "noconfig")
    (no_config / "config.json").unlink()
    empty_config = _ckpt_copy(tiny_base, root, "emptyconfig")
    (empty_config / "config.json").write_text("")
    bad_card = _ckpt_copy(tiny_base, root, "badcard")
    (bad_card / "relearn.json").write_text('{"method": "ga",')
    bad_adapter = root / "badadapter"
    bad_adapter.mkdir()
    (bad_adapter / "adapter_config.json").write_text("{not json")
    found.update(
        garbage=str(garbage),
        truncated=str(truncated),
        noconfig=str(no_config),
        emptyconfig=str(empty_config),
        badcard=str(bad_card),
        badadapter=str(bad_adapter),
    )

    def results(name: str, data) -> None:
        write_json(root / f"{name}.json", data)
        found[name] = str(root / f"{name}.json")

    results("good", GOOD_RESULTS)
    results("meta_str", {**GOOD_RESULTS, "meta": "hand-edited"})
    robustness = {"forget": {"KFR": 0.5}, "retain": {"KRR": 0.7}, "robustness": {"int8": "x"}}
    results("robust_str", {**GOOD_RESULTS, "values": robustness})
    results("backends_list", {**GOOD_RESULTS, "meta": {"backends": ["kb"]}})
    results("forget_list", {**GOOD_RESULTS, "values": {"forget": [0.5], "retain": {}}})
    half = json.dumps(GOOD_RESULTS)
    (root / "half.json").write_text(half[: len(half) // 2])
    (root / "latin1.json").write_bytes(LATIN1_RESULTS)
    found.update(half=str(root / "half.json"), latin1=str(root / "latin1.json"))

    header = "clean,corrupted,gold,corrupted_gold\n"
    (root / "pairs_latin1.csv").write_bytes(
        (header + "Jos\xe9 was,Ana was,x,y\n").encode("latin-1")
    )
    (root / "pairs_short.csv").write_text(header + "Nia Hym was born in,Tom Lee was born in\n")
    found.update(
        pairs_latin1=str(root / "pairs_latin1.csv"), pairs_short=str(root / "pairs_short.csv")
    )
    found.update(_runs(root))
    return found


def _runs(root: Path) -> dict[str, str]:
    """Work folders of `relearn-interp reproduce` with a broken run.json or stage result."""
    from relearn_interp.main.settings import ReproduceSettings

    settings = asdict(ReproduceSettings.for_preset("tiny"))
    summary = {"settings": settings, "stages": [], "checkpoints": {}, "wall_seconds": 1.0}
    summary["peak_rss_mb"] = 1.0
    runs = {
        "run_empty": {},
        "run_extra": {**summary, "settings": {**settings, "surprise": 1}},
        "run_nostage": summary,
        "run_halfeval": summary,
        "run_badeval": summary,
        "run_latin1eval": summary,
        "run_badmarker": {**summary, "stages": ["bench"]},
    }
    for name, info in runs.items():
        write_json(root / name / "run.json", info)
    half = json.dumps(GOOD_RESULTS)
    (root / "run_halfeval" / "eval-ga").mkdir()
    (root / "run_halfeval" / "eval-ga" / "ga.json").write_text(half[: len(half) // 2])
    write_json(root / "run_badeval" / "eval-ga" / "ga.json", {**GOOD_RESULTS, "meta": "x"})
    (root / "run_latin1eval" / "eval-ga").mkdir()
    (root / "run_latin1eval" / "eval-ga" / "ga.json").write_bytes(LATIN1_RESULTS)
    write_json(root / "run_badmarker" / "bench" / ".stage", {})
    return {name: str(root / name) for name in runs}
