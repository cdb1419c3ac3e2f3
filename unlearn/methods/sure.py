"""SURE: saliency-based unlearning with a large learning rate (Zhang et al., ICLR 2025).

Each step, the gradient of the forget term alone is taken (with `torch.autograd.grad`, so it
never leaks into `.grad`); every output row of every trainable weight gets the L2 norm of its
gradient row (1-D parameters: each element is a row); only the top rows — those at or above the
`percentile`-th percentile, exactly ceil(rows × (100 - percentile) / 100) of them, ties broken
by index — keep their gradient of the full loss. The rank is global over all trainable weights,
as in the reference code. As its scripts run it (DeepSpeed bf16), the reference's mask is applied
after the gradient reached the optimizer, so its `*_sure` runs equal the plain methods
(docs/reference.md, S1); ours masks the gradient the optimizer applies.
"""

from __future__ import annotations

import math

import torch
from jaxtyping import Bool, Float
from torch import Tensor


def row_norms(grad: Float[Tensor, "rows ..."]) -> Float[Tensor, " rows"]:
    """L2 norm of each output row (dim 0) of a gradient; |g| for 1-D parameters."""
    grad = grad.detach().float()
    return grad.abs() if grad.dim() == 1 else grad.flatten(1).norm(dim=1)


def kept_row_count(n_rows: int, percentile: float) -> int:
    """How many rows sit at or above the percentile: ceil(n × (100 - p) / 100), at least one."""
    return max(1, math.ceil(round(n_rows * (100.0 - percentile) / 100.0, 6)))


def saliency_masks(
    grads: list[Tensor | None], percentile: float
) -> list[Bool[Tensor, " rows"] | None]:
    """One boolean row mask per parameter: True for the globally most salient rows."""
    norms = [row_norms(g) for g in grads if g is not None]
    flat = torch.cat([n.to(norms[0].device) for n in norms])
    keep = torch.zeros_like(flat, dtype=torch.bool)
    order = torch.sort(flat, descending=True, stable=True).indices
    keep[order[: kept_row_count(flat.numel(), percentile)]] = True
    masks: list[Tensor | None] = []
    offset = 0
    for grad in grads:
        if grad is None:
            masks.append(None)
            continue
        rows = grad.shape[0]
        masks.append(keep[offset : offset + rows].to(grad.device))
        offset += rows
    return masks


def mask_gradients(params: list[torch.nn.Parameter], masks: list[Tensor | None]) -> None:
    """Zero `.grad` outside the salient rows (parameters with no forget gradient get none)."""
    for param, mask in zip(params, masks, strict=True):
        if param.grad is None:
            continue
        if mask is None:
            param.grad.zero_()
        else:
            param.grad.mul_(mask.view(-1, *([1] * (param.grad.dim() - 1))).to(param.grad.dtype))
