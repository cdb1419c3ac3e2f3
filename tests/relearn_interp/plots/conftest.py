"""Synthetic main-job results in the saved formats (eval items, dose cards, logit lens, shift,
erasure), so every report figure can be drawn in seconds without running the main job.

Two shapes: `tiny` (4 layers, a 9-token answer) and `smollm2` (30 layers, a 17-token answer
with long tokens), the shape of the committed smollm2 figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from relearn_interp.report.load import RunResults

LABELS = ("vanilla", "ga_gdr", "npo_gdr", "ga_gdr_sure", "npo_gdr_sure", "relearn")
DESTINATIONS = ("vanilla_top1", "vanilla_candidates", "eos", "refusal", "malformed", "unrelated")
FORGET, RETAIN = "forget10", "retain90_eval"


@dataclass(frozen=True)
class Shape:
    name: str
    n_layers: int
    answer: tuple[str, ...]
    target_index: int
    n_facts: int = 12


TINY = Shape(
    "tiny", 4, ("Goum", " Quyssam", " was", " born", " in", " Drou", "vobury", ".", "<|end|>"), 5
)
SMOLLM2 = Shape(
    "smollm2",
    30,
    (
        "The",
        " author",
        " Goum",
        " Quyssam",
        " was",
        " born",
        " in",
        " the",
        " city",
        " of",
        " Drouvobury",
        ",",
        " a",
        " small",
        " town",
        ".",
        "<|im_end|>",
    ),  # fmt: skip
    10,
)
JUNK = (" nevertheless", "<|endoftext|>", "\n\n", " the", "ese", " Goum", " W")


def eval_results(rng: np.random.Generator, label: str, n: int) -> dict:
    forgets = 0.05 if label == "vanilla" else 0.8

    def rows(extra) -> list[dict]:
        return [{"id": f"fact{i:02d}", **extra(i)} for i in range(n)]

    forgotten = rng.random(n) < forgets
    forget = rows(lambda i: {
        "forgotten": bool(forgotten[i]), "recalled": not forgotten[i],
        "recalled_exact": not forgotten[i], "ppl": float(rng.uniform(2, 40)),
        "brunet": float(rng.uniform(4, 6)), "honore": float(rng.uniform(900, 2000)),
    })  # fmt: skip
    retained = rng.random(n) < 0.7
    retain = rows(lambda i: {
        "retained": bool(retained[i]), "recalled": bool(retained[i]),
        "recalled_exact": bool(retained[i]), "ppl": float(rng.uniform(1, 5)),
        "brunet": float(rng.uniform(4, 6)), "honore": float(rng.uniform(900, 2000)),
        "fluency_proxy": float(rng.uniform(1, 5)), "relevance_proxy": float(rng.uniform(1, 5)),
    })  # fmt: skip
    flip = rng.random(n) < 0.1
    robustness = {
        precision: {"forget": [
            {"id": row["id"], "forgotten": row["forgotten"] != bool(flip[i] and k)}
            for i, row in enumerate(forget)
        ]}
        for k, precision in enumerate(("float16", "bfloat16"))
    }  # fmt: skip
    return {
        "values": {"forget": {"n": n}, "retain": {"n": n}},
        "items": {"forget": forget, "retain": retain, "forget_paraphrased": forget,
                  "robustness": robustness},
    }  # fmt: skip


def dose_card(rng: np.random.Generator) -> dict:
    trace = [
        {
            "step": s,
            "examples": 8 * s,
            "recall": float(max(0.0, 1 - 0.12 * s + rng.normal(0, 0.03))),
        }
        for s in range(0, 10)
    ]
    kept = next((c for c in trace if c["recall"] <= 0.2), trace[-1])
    return {"forget_target": {"recall_at_most": 0.2, "trace": trace, "kept_step": kept["step"],
                              "reached": kept["recall"] <= 0.2}}  # fmt: skip


def lens_results(rng: np.random.Generator, shape: Shape, heatmap_items: int = 4) -> dict:
    n_sites, n_pos = shape.n_layers, len(shape.answer)
    vocabulary = [*shape.answer, *JUNK]
    items = []
    for i in range(shape.n_facts):
        checkpoints = {}
        for label in LABELS:
            record = {
                "target_prob": rng.uniform(0, 1, n_sites).round(4).tolist(),
                "target_rank": rng.integers(1, 5000, n_sites).tolist(),
                "related_mass": [None] * n_sites
                if i == 1
                else rng.uniform(0, 0.2, n_sites).tolist(),
            }
            if i < heatmap_items:
                gold = rng.random((n_sites, n_pos)) < 0.6
                record["grid_top_token"] = [
                    [shape.answer[p] if gold[s, p] else str(rng.choice(vocabulary))
                     for p in range(n_pos)]
                    for s in range(n_sites)
                ]  # fmt: skip
                record["grid_gold_prob"] = rng.uniform(0, 1, (n_sites, n_pos)).tolist()
            checkpoints[label] = record
        items.append({
            "id": f"fact{i:02d}", "question": "Where was Goum Quyssam born?",
            "answer_tokens": list(shape.answer), "target_index": shape.target_index,
            "checkpoints": checkpoints,
        })  # fmt: skip
    sites = [{"label": f"L{s}", "layer": s, "kind": "post", "x": float(s)} for s in range(n_sites)]
    return {
        "meta": {"n_prompts": shape.n_facts, "grid_items": heatmap_items},
        "values": {"sites": sites, "checkpoints": {label: {} for label in LABELS}},
        "items": items,
    }


def shift_results(rng: np.random.Generator, shape: Shape) -> dict:
    n_pos = len(shape.answer)
    items = []
    for i in range(shape.n_facts):
        models = {}
        for label in LABELS[1:]:
            tv = rng.uniform(0, 0.6, n_pos)
            split = rng.dirichlet(np.ones(len(DESTINATIONS)), n_pos) * tv[:, None]
            models[label] = {
                "entropy_model": rng.uniform(0, 3, n_pos).tolist(),
                "base_top1_rank": rng.integers(1, 3000, n_pos).tolist(),
                "tv": tv.tolist(),
                **{f"moved_to_{d}": split[:, k].tolist() for k, d in enumerate(DESTINATIONS)},
            }
        items.append({"id": f"fact{i:02d}", "base_entropy": rng.uniform(0, 1, n_pos).tolist(),
                      "models": models})  # fmt: skip
    return {
        "meta": {"destinations": list(DESTINATIONS), "n_prompts": shape.n_facts},
        "values": {"base_label": "vanilla", "models": {label: {} for label in LABELS[1:]}},
        "items": items,
    }


def erasure_results(rng: np.random.Generator, shape: Shape) -> dict:
    n = shape.n_facts
    checkpoints = {}
    for label in LABELS:
        mean = np.sort(rng.uniform(0, 1, shape.n_layers))
        flags = {p: (rng.random(n) < 0.3).tolist() for p in ("lens", "lens_raw", "lens_own")}
        checkpoints[label] = {
            "per_fact": {
                "forgotten": (rng.random(n) < (0.1 if label == "vanilla" else 0.8)).tolist(),
                **flags,
                "int8": (rng.random(n) < 0.2).tolist(),
                "int4": (rng.random(n) < 0.3).tolist(),
                "relearn": (rng.random(n) < 0.5).tolist(),
                "control": (rng.random(n) < 0.2).tolist(),
                "any": (rng.random(n) < 0.6).tolist(),
                "depth": rng.uniform(0, 1, n).tolist(),
            },
            "curves": {"slot": {"n": n, **{
                key: {"mean": mean.tolist(), "low": (mean - 0.1).tolist(),
                      "high": (mean + 0.1).tolist()}
                for key in ("restore_share", "transfer_share")
            }}},
        }  # fmt: skip
    return {"meta": {"settings": {"variants": ["slot"]}}, "values": {"checkpoints": checkpoints}}


def synthetic_run(shape: Shape, seed: int = 0) -> RunResults:
    rng = np.random.default_rng(seed)
    return RunResults(
        settings={"seed": 0, "preset": shape.name},
        evals={label: eval_results(rng, label, shape.n_facts) for label in LABELS},
        cards={label: dose_card(rng) for label in LABELS[1:]},
        augment_stats=None,
        lens={split: lens_results(rng, shape) for split in (FORGET, RETAIN)},
        shift={split: shift_results(rng, shape) for split in (FORGET, RETAIN)},
        erasure=erasure_results(rng, shape),
        circuits=None,
        circuit_pairs=None,
        circuit_dir=Path("no-circuits"),
        forget_split=FORGET,
        retain_split=RETAIN,
        timings=[],
        wall_seconds=0.0,
        peak_rss_mb=0.0,
    )


@pytest.fixture(scope="session")
def tiny_shaped_run() -> RunResults:
    return synthetic_run(TINY)


@pytest.fixture(scope="session")
def smollm2_shaped_run() -> RunResults:
    return synthetic_run(SMOLLM2)
