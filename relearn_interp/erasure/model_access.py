"""A plain Hugging Face causal LM from the inside: its decoder blocks, output head and block hooks.

The erasure probes patch with a key/value cache (a patched run recomputes only the positions from
the first patched one on), which TransformerLens' TransformerBridge does not offer: its attention
leaves `past_key_values` empty. So they run the plain model of `unlearn.models.loading.load_model`.
Block l's output here is TransformerLens' `blocks.{l}.hook_resid_post`, and `decode_block_output`
is the logit lens of `relearn_interp.lens.decode.decode_residual` (final norm, unembedding, and the final
logit soft-cap of models that have one, e.g. Gemma-2; a test checks that the two agree). The probes
read only *ranks* through it, which no monotone final-logit transform (soft cap, logit scaling)
changes; log-probabilities come from the model's own forward pass.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator

import torch
from jaxtyping import Float
from torch import Tensor, nn
from transformers import PreTrainedModel

from unlearn.errors import UserError

NORM_NAMES = ("norm", "ln_f", "final_layernorm", "final_norm")
BlockHook = Callable[[Float[Tensor, "batch pos d_model"]], Tensor | None]


def decoder_layers(model: PreTrainedModel) -> nn.ModuleList:
    """The model's list of decoder blocks (the ModuleList as long as `num_hidden_layers`)."""
    n_layers = model.config.num_hidden_layers
    for module in model.base_model.children():
        if isinstance(module, nn.ModuleList) and len(module) == n_layers:
            return module
    raise UserError(
        f"cannot find the {n_layers} decoder blocks of {type(model).__name__}; "
        "the erasure probes support decoder-only Hugging Face models"
    )


def final_norm(model: PreTrainedModel) -> nn.Module:
    """The norm applied after the last block (before the unembedding)."""
    for name in NORM_NAMES:
        module = getattr(model.base_model, name, None)
        if isinstance(module, nn.Module):
            return module
    raise UserError(f"cannot find the final norm of {type(model).__name__} (tried {NORM_NAMES})")


def unembed(
    model: PreTrainedModel, normed: Float[Tensor, "... d_model"]
) -> Float[Tensor, "... d_vocab"]:
    """Logits of final-norm outputs: the unembedding, then the final logit soft-cap if any."""
    logits = model.get_output_embeddings()(normed)
    cap = getattr(model.config, "final_logit_softcapping", None)
    return torch.tanh(logits / cap) * cap if cap else logits


def decode_block_output(
    model: PreTrainedModel, resid: Float[Tensor, "... d_model"]
) -> Float[Tensor, "... d_vocab"]:
    """The logit lens: a block's output read through the final norm and the unembedding."""
    return unembed(model, final_norm(model)(resid))


def cache_kwarg(model: PreTrainedModel) -> str:
    """The name of the key/value-cache argument (`cache` from transformers 5.2x, else
    `past_key_values`)."""
    parameters = inspect.signature(model.forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def output_cache(output) -> object:
    """The key/value cache a forward pass returned (under either name)."""
    cache = output.get("cache") if "cache" in output else output.get("past_key_values")
    if cache is None:
        raise UserError("the model returned no key/value cache; it cannot be patched with one")
    return cache


@contextlib.contextmanager
def block_hooks(model: PreTrainedModel, hooks: dict[int, BlockHook]) -> Iterator[None]:
    """Call `hooks[l]` on block l's output hidden states; a tensor it returns replaces them."""
    layers = decoder_layers(model)
    handles = []

    def wrap(hook: BlockHook):
        def forward_hook(module, inputs, output):
            hidden = output[0] if isinstance(output, tuple) else output
            replaced = hook(hidden)
            if replaced is None:
                return None
            return (replaced, *output[1:]) if isinstance(output, tuple) else replaced

        return forward_hook

    try:
        for layer, hook in hooks.items():
            handles.append(layers[layer].register_forward_hook(wrap(hook)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def autocast(device: torch.device, mixed_precision: str) -> torch.autocast:
    """bf16 autocast for the probes' forward passes when asked (weights stay in their dtype)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=mixed_precision == "bf16")
