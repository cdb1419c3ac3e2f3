"""Per-fact arrays (one value per fact, in fact order, for the paired bootstrap) and the patching
curves' per-layer means with 95% CIs, from one checkpoint's per-fact items."""

from __future__ import annotations

import numpy as np

from relearn_interp.statistics import bootstrap


def per_fact_arrays(items: list[dict], bits: tuple[int, ...], variant: str) -> dict[str, list]:
    """forgotten, each probe's recovery flag (None: the probe did not test that fact), any, depth."""
    arrays: dict[str, list] = {
        "forgotten": [item["forgotten"] for item in items],
        "lens": [item["lens"]["base"]["hit"] for item in items],
        "lens_raw": [item["lens"]["base"]["recovered"] for item in items],
        "lens_own": [item["lens"]["own"]["hit"] for item in items],
    }
    for b in bits:
        arrays[f"int{b}"] = [
            bool(item["quantization"][f"int{b}"] and item["quantization"][f"int{b}"]["recalled"])
            for item in items
        ]
    for name in ("attack", "control"):
        key = "relearn" if name == "attack" else name
        arrays[key] = [
            None if item["relearn"].get(name) is None else item["relearn"][name]["recalled"]
            for item in items
        ]
    recovering = ["lens", *(f"int{b}" for b in bits), "relearn", "control"]
    arrays["any"] = [
        bool(item_forgotten and any(bool(arrays[p][i]) for p in recovering))
        for i, item_forgotten in enumerate(arrays["forgotten"])
    ]
    arrays["depth"] = [item["patching"][variant]["depth"] for item in items]
    return arrays


def curve_summary(items: list[dict], variant: str, seed: int = 0) -> dict:
    """Mean restore and transfer share per block over the facts with a gap, with bootstrap CIs."""
    rows = [item["patching"][variant] for item in items]
    kept = [row for row in rows if row["restore_share"] is not None]
    summary: dict = {"n": len(kept)}
    for key in ("restore_share", "transfer_share"):
        if not kept:
            summary[key] = None
            continue
        matrix = np.asarray([row[key] for row in kept], dtype=float)  # [fact, layer]
        estimates = [bootstrap(matrix[:, layer], seed=seed) for layer in range(matrix.shape[1])]
        summary[key] = {
            "mean": [e.value for e in estimates],
            "low": [e.low for e in estimates],
            "high": [e.high for e in estimates],
        }
    return summary
