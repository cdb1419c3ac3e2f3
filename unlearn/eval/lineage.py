"""Follow a checkpoint's relearn.json cards back to its vanilla model and its base preset.

Used for defaults: the LS perplexity scorer is the base model before fine-tuning, as in the
reference (the vanilla model would find its own memorised answers fluent by construction); a base
that is a randomly initialised preset (`tiny`) knows no language, so there the vanilla model
scores, and the description says so. The relearning attack's learning rate is a tenth of the base
preset's fine-tuning rate (at the full rate, a few steps on half the forget set already damage the
other half on the tiny preset).
"""

from __future__ import annotations

from pathlib import Path

from unlearn.models import PRESETS, read_card
from unlearn.presets import RANDOM_INIT_PRESETS

PARENT_KEYS = ("vanilla", "model", "base", "reference")
MAX_DEPTH = 8
RELEARN_LR_FACTOR = 0.1


def _parent(folder: str, card: dict) -> str | None:
    """The model a card names (as given, or relative to the card's folder), if it exists."""
    for key in PARENT_KEYS:
        value = card.get(key)
        if not isinstance(value, str):
            continue
        if value in PRESETS or Path(value).is_dir():
            return value
        if (Path(folder) / value).is_dir():
            return str(Path(folder) / value)
    return None


def lineage(path: str | Path) -> list[tuple[str, dict]]:
    """(folder or preset, card) from the checkpoint back through the models its cards name."""
    chain: list[tuple[str, dict]] = []
    current: str | None = str(path)
    while current is not None and len(chain) < MAX_DEPTH and current not in {c for c, _ in chain}:
        card = read_card(current) if Path(current).is_dir() else {}
        chain.append((current, card))
        current = _parent(current, card)
    return chain


def default_scorer(path: str | Path) -> tuple[str, str]:
    """The base model before fine-tuning (the parent of the lineage's vanilla model), else the
    vanilla model, else the checkpoint itself; with how it was chosen."""
    chain = lineage(path)
    for index, (candidate, card) in enumerate(chain):
        if card.get("method") != "vanilla":
            continue
        base = chain[index + 1][0] if index + 1 < len(chain) else None
        if base is not None and base not in RANDOM_INIT_PRESETS:
            return base, "the base model before fine-tuning, as in the reference"
        why = (
            f"its base {base!r} is randomly initialised and knows no language"
            if base
            else "its base model is not found"
        )
        where = (
            "the checkpoint itself (a vanilla model)"
            if candidate == str(path)
            else "the vanilla model"
        )
        return candidate, f"{where}, as {why}"
    return str(
        path
    ), "the checkpoint itself: no vanilla model found in its relearn.json lineage (pass --scorer)"


def default_relearn_lr(path: str | Path) -> float:
    """A tenth of the fine-tuning rate of the lineage's base preset (FinetuneConfig default otherwise)."""
    from unlearn.finetune import FinetuneConfig

    preset = next((c for c, _ in lineage(path) if c in PRESETS), None)
    return FinetuneConfig.for_preset(preset or "").lr * RELEARN_LR_FACTOR
