"""Any checkpoint → a TransformerLens `TransformerBridge` with the HookedTransformer hook names.

Accepts a merged Hugging Face folder, a PEFT adapter folder (merged into its base in memory), a
preset name or a hub id. TransformerLens 4 replaced `HookedTransformer` by `TransformerBridge`;
`enable_compatibility_mode()` restores the legacy hook names (`blocks.{l}.hook_resid_post`, ...),
`run_with_cache` and backward hooks. Sharp edges handled here: the tokenizer is loaded from disk;
the HF model is moved to `device` before the bridge wraps it (given a built model, the bridge
records the device but does not move anything) and the parameters are checked to be there;
the bridge wraps the HF model in place and forces eager attention; merged LoRA parameters come
back with requires_grad=False (the analyses take gradients of activations, never of weights).

By default no weight processing is applied, so the bridge's logits equal the HF model's exactly.
An architecture TransformerLens has no adapter for is refused in one line (UserError); the README
lists the architectures tested end to end (tests/relearn_interp/test_architectures.py).
`processing=True` folds LayerNorm and centres weights like HookedTransformer: log-probabilities are
unchanged, logits shift by a constant per position.
"""

from __future__ import annotations

import logging
import warnings
from importlib.metadata import version
from pathlib import Path

import torch
from transformer_lens.model_bridge import TransformerBridge
from transformers import PreTrainedTokenizerBase

from unlearn.devices import check_on_device, resolve_device
from unlearn.errors import UserError
from unlearn.models.card import read_card
from unlearn.models.loading import load_model, resolve_model

# how TransformerBridge.boot_transformers says it has no adapter for an architecture
UNSUPPORTED_MESSAGES = ("Could not determine supported architecture", "Unsupported architecture")


def checkpoint_label(ckpt: str | Path) -> str:
    """A short name for figures: the card's method, else the folder or preset name."""
    text = str(ckpt)
    path = Path(text)
    if path.is_dir():
        card = read_card(path)
        method = card.get("method")
        return method if method and method != "base" else path.name
    return text


def load(
    ckpt: str | Path,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    device_map: str | dict | None = None,
    n_devices: int | None = None,
    processing: bool = False,
) -> TransformerBridge:
    """Load `ckpt` into a TransformerBridge in compatibility mode (eval mode, no grad on weights)."""
    name = resolve_model(ckpt)
    # None keeps the loader's choice (the CPU); the commands always pass a resolved --device
    spread = device_map is not None or n_devices is not None
    wanted = resolve_device(device) if device is not None and not spread else None
    hf_model, tokenizer = load_model(
        name, dtype=dtype, device=wanted, device_map=device_map, attn_implementation="eager"
    )
    boot_kwargs: dict = {"hf_model": hf_model, "tokenizer": tokenizer, "dtype": dtype}
    if n_devices is not None:
        boot_kwargs["n_devices"] = n_devices
    elif device_map is None:
        boot_kwargs["device"] = wanted if wanted is not None else hf_model.device
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        previous = logging.getLogger().level
        logging.getLogger().setLevel(logging.ERROR)
        try:
            bridge = TransformerBridge.boot_transformers(name, **boot_kwargs)
            bridge.enable_compatibility_mode(disable_warnings=True, no_processing=not processing)
        except ValueError as err:
            if not str(err).startswith(UNSUPPORTED_MESSAGES):
                raise
            architecture = ", ".join(hf_model.config.architectures or [hf_model.config.model_type])
            raise UserError(
                f"cannot analyse {ckpt}: its architecture {architecture} is not supported by "
                f"TransformerLens {version('transformer-lens')} (TransformerBridge); the README "
                "lists the supported and tested architectures"
            ) from None
        finally:
            logging.getLogger().setLevel(previous)
    if wanted is not None:
        check_on_device(bridge, wanted, f"checkpoint {ckpt}")
    bridge.eval()
    for parameter in bridge.parameters():
        parameter.requires_grad_(False)
    bridge.checkpoint = str(ckpt)
    bridge.checkpoint_label = checkpoint_label(ckpt)
    return bridge


def vocab_signature(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    return dict(tokenizer.get_vocab())


def require_same_tokenizer(models: dict[str, TransformerBridge]) -> None:
    """Refuse to compare checkpoints whose tokenizers differ, naming the first mismatch."""
    require_same_vocab({name: model.tokenizer for name, model in models.items()})


def require_same_vocab(tokenizers: dict[str, PreTrainedTokenizerBase]) -> None:
    """The same check on tokenizers alone, so a mismatch is caught before any weights are loaded."""
    items = list(tokenizers.items())
    first_name, first = items[0]
    reference = vocab_signature(first)
    for name, tokenizer in items[1:]:
        if vocab_signature(tokenizer) != reference:
            raise UserError(
                f"checkpoints {first_name} and {name} have different tokenizers; compare models that share one"
            )


def check_layer(model: TransformerBridge, layer: int) -> int:
    """Validate a layer index (negative counts from the end)."""
    n_layers = model.cfg.n_layers
    if not -n_layers <= layer < n_layers:
        raise UserError(
            f"layer {layer} is out of range for a {n_layers}-layer model (0..{n_layers - 1})"
        )
    return layer % n_layers


def check_context(model: TransformerBridge, n_tokens: int, what: str = "prompt") -> None:
    """Refuse a prompt longer than the model's context."""
    n_ctx = getattr(model.cfg, "n_ctx", None)
    if n_ctx and n_tokens > n_ctx:
        raise UserError(f"{what} has {n_tokens} tokens, longer than the model's context of {n_ctx}")
