"""A checkpoint's relearn.json card, and the one walker up the chain of models its cards name.

The card (`CARD_FILE`) records a checkpoint's lineage: `base` (the preset or model it descends
from), `model` (the checkpoint it was trained from), `method`, hyper-parameters, data hashes,
precision, seed and versions. A PEFT adapter folder names its base in adapter_config.json.

`lineage` follows the cards from a checkpoint back to its vanilla model and its base preset; the
defaults read it: the preset a model descends from (`preset_of`, the training defaults), the LS
perplexity scorer (`unlearn.eval.scoring.default_scorer`) and the relearning attack's learning
rate (`unlearn.training.attack.default_relearn_lr`).
"""

from __future__ import annotations

from pathlib import Path

from unlearn.errors import UserError
from unlearn.io import read_json
from unlearn.presets import PRESETS

CARD_FILE = "relearn.json"
ADAPTER_FILE = "adapter_config.json"
PARENT_KEYS = ("vanilla", "model", "base", "reference")
MAX_DEPTH = 8


def read_card(path: str | Path) -> dict:
    """The checkpoint's relearn.json card, or {} for a folder that has none."""
    card = Path(path) / CARD_FILE
    if not card.is_file():
        return {}
    found = read_json(card, what="checkpoint card")
    if not isinstance(found, dict):
        raise UserError(
            f"checkpoint card {card} is not a JSON object; restore it or delete it (the card "
            "only records the checkpoint's lineage)"
        )
    return found


def is_adapter(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_FILE).is_file()


def adapter_base(path: str | Path) -> str:
    """The base model named by a PEFT adapter, resolved relative to the adapter if needed."""
    config = read_json(Path(path) / ADAPTER_FILE, what="adapter config")
    base = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    if not isinstance(base, str) or not base:
        raise UserError(f"adapter {path} names no base model (base_model_name_or_path)")
    relative = (Path(path) / base).resolve()
    if not Path(base).exists() and relative.exists():
        base = str(relative)
    if (
        base not in PRESETS
        and not Path(base).exists()
        and (base.startswith((".", "/")) or base.count("/") != 1)
    ):
        raise UserError(f"the base model {base} of adapter {path} is missing")
    return base


def _parent(folder: str, card: dict, keys: tuple[str, ...], adapters: bool) -> str | None:
    """The model a card names under the first of `keys` that resolves (as given, or relative to
    the card's folder); with `adapters`, a card naming none of them falls back to the base of
    the folder's PEFT adapter."""
    for key in keys:
        value = card.get(key)
        if not isinstance(value, str):
            continue
        if value in PRESETS or Path(value).is_dir():
            return value
        if (Path(folder) / value).is_dir():
            return str(Path(folder) / value)
    if adapters and not any(card.get(key) for key in keys) and is_adapter(folder):
        return adapter_base(folder)
    return None


def lineage(
    path: str | Path, keys: tuple[str, ...] = PARENT_KEYS, adapters: bool = False
) -> list[tuple[str, dict]]:
    """(folder or preset, card) from the checkpoint back through the models its cards name: at
    each card the first of `keys` naming a model that exists (`adapters`: an adapter folder's
    base when its card names none); a preset, a hub id or a missing folder ends it."""
    chain: list[tuple[str, dict]] = []
    current: str | None = str(path)
    while current is not None and len(chain) < MAX_DEPTH and current not in {c for c, _ in chain}:
        card = read_card(current) if Path(current).is_dir() else {}
        chain.append((current, card))
        current = _parent(current, card, keys, adapters)
    return chain


def preset_of(spec: str | Path) -> str | None:
    """The preset a model descends from, following relearn.json `base` and adapter bases."""
    chain = lineage(spec, keys=("base",), adapters=True)
    return next((model for model, _ in chain if model in PRESETS), None)
