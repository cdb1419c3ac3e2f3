"""Writing a training run's checkpoint: the merged Hugging Face folder any tool loads, its
tokenizer, the relearn.json card, the per-step log, the LoRA adapter, and (while the run is
incomplete) the state `--resume` needs. Every write replaces the folder atomically."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from transformers import PreTrainedTokenizerBase

from unlearn.errors import UserError
from unlearn.io import atomic_dir, write_json, write_text
from unlearn.models.card import CARD_FILE, is_adapter, read_card
from unlearn.models.loading import resolve_model
from unlearn.presets import PRESETS
from unlearn.training.config import TrainConfig

if TYPE_CHECKING:
    from unlearn.training.loop import TrainLoop

ADAPTER_DIR = "adapter"
RESUME_FILE = "resume/state.pt"
LOG_FILE = "train_log.jsonl"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


def check_tokenizer(spec: str | Path) -> None:
    """A checkpoint folder must carry its tokenizer (an adapter may rely on its base's)."""
    path = Path(resolve_model(spec))
    if (
        path.is_dir()
        and not is_adapter(path)
        and not any((path / f).is_file() for f in TOKENIZER_FILES)
    ):
        raise UserError(
            f"model folder {path} has no tokenizer ({' or '.join(TOKENIZER_FILES)}); "
            "save the tokenizer beside the weights (tokenizer.save_pretrained)"
        )


def model_reference(spec: str | Path) -> str:
    """How an adapter names its base: a preset or hub id as given, a folder as an absolute path."""
    text = str(spec)
    return text if text in PRESETS or not Path(text).exists() else str(Path(text).resolve())


class CheckpointWriter:
    """Writes the run's checkpoint atomically: merged HF folder, tokenizer, relearn.json card,
    per-step log, LoRA adapter (adapter/), and while incomplete the resume state."""

    def __init__(
        self, out: Path, tokenizer: PreTrainedTokenizerBase, card: dict, save_every: int | None
    ):
        self.out, self.tokenizer, self.card, self.save_every = out, tokenizer, card, save_every
        self.saved_step: int | None = None

    def on_step(self, loop: TrainLoop) -> None:
        every = loop.steps_per_epoch if self.save_every is None else self.save_every
        if loop.step == loop.total_steps or (every and loop.step % every == 0):
            self.save(loop)

    def save(self, loop: TrainLoop, stopped: str | None = None, extra: dict | None = None) -> None:
        """Write the checkpoint of the loop's current weights; `extra` adds card fields (the
        forget target's trace and the dose)."""
        accelerator = loop.accelerator
        accelerator.wait_for_everyone()
        weights = loop.weights_to_save()
        if accelerator.is_main_process:
            complete = loop.step == loop.total_steps or loop.finished
            card = {
                **self.card,
                "step": loop.step,
                "total_steps": loop.total_steps,
                "complete": complete,
                "stopped": stopped,
                "num_processes": accelerator.num_processes,
                "losses": loop.losses,
                **(extra or {}),
            }
            unwrapped = accelerator.unwrap_model(loop.model)
            with atomic_dir(self.out, overwrite=True) as tmp:
                if loop.config.lora:
                    unwrapped.get_base_model().save_pretrained(tmp, state_dict=weights)
                    self._save_adapter(unwrapped, tmp / ADAPTER_DIR)
                else:
                    unwrapped.save_pretrained(tmp, state_dict=weights)
                self.tokenizer.save_pretrained(tmp)
                if not complete:
                    (tmp / RESUME_FILE).parent.mkdir()
                    torch.save(loop.state_dict(), tmp / RESUME_FILE)
                write_text(tmp / LOG_FILE, "".join(json.dumps(row) + "\n" for row in loop.log))
                write_json(tmp / CARD_FILE, card)
        self.saved_step = loop.step
        accelerator.wait_for_everyone()

    def _save_adapter(self, peft_model: torch.nn.Module, folder: Path) -> None:
        peft_model.save_pretrained(folder)
        config_path = folder / "adapter_config.json"
        adapter_config = json.loads(config_path.read_text())
        adapter_config["base_model_name_or_path"] = self.card["model"]
        write_json(config_path, adapter_config)


def resumable_card(
    out: Path, method: str, config: TrainConfig, data_hashes: dict, model: str
) -> dict:
    """The card of the incomplete run in `out`, checked to match this run's settings."""
    card = read_card(out)
    if not card:
        raise UserError(f"nothing to resume: {out} holds no checkpoint ({CARD_FILE})")
    if card.get("complete"):
        raise UserError(
            f"{out} is a finished run; nothing to resume (use --overwrite to train again)"
        )
    if not (out / RESUME_FILE).is_file():
        raise UserError(f"{out} has no resume state ({RESUME_FILE})")
    expected = {
        "method": method,
        "model": model,
        "hyperparameters": asdict(config),
        "data_hash": data_hashes,
    }
    differing = [key for key, value in expected.items() if card.get(key) != value]
    if differing:
        raise UserError(
            f"cannot resume {out}: its {', '.join(differing)} differ from this run's; "
            "pass the same method, model, data and settings"
        )
    return card
