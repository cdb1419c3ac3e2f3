"""Follow a checkpoint's relearn.json cards back to its vanilla model and its base preset.

Used for defaults: the LS perplexity scorer is the vanilla model (as the issue asks), and the
relearning attack's learning rate is a tenth of the base preset's fine-tuning rate (at the full
rate, a few steps on half the forget set already damage the other half on the tiny preset).
"""

from __future__ import annotations

from pathlib import Path

from unlearn.models import PRESETS, read_card

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
    """The vanilla model of the lineage, else the checkpoint itself; with how it was chosen."""
    for candidate, card in lineage(path):
        if card.get("method") == "vanilla":
            how = (
                "the checkpoint itself, a vanilla model"
                if candidate == str(path)
                else "the vanilla model its relearn.json names"
            )
            return candidate, how
    return str(
        path
    ), "the checkpoint itself: no vanilla model found in its relearn.json lineage (pass --scorer)"


def default_relearn_lr(path: str | Path) -> float:
    """A tenth of the fine-tuning rate of the lineage's base preset (FinetuneConfig default otherwise)."""
    from unlearn.finetune import FinetuneConfig

    preset = next((c for c, _ in lineage(path) if c in PRESETS), None)
    return FinetuneConfig.for_preset(preset or "").lr * RELEARN_LR_FACTOR
