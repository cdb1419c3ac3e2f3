"""Decoding residual-stream vectors into next-token statistics, exactly as the model's output head.

The logit lens of layer l is what the output would be if the network stopped after l: the vector
goes through the model's final norm, its unembedding and then the model's own final-logit
transform (Gemma-2's soft cap `cap * tanh(logits / cap)`, Granite's or Cohere's logit scaling, ...).
TransformerLens declares that transform per architecture (`adapter.apply_output_logits_transform`,
read from the model's config), so no architecture is named here; `check_readout` refuses a model
whose decoded last layer does not reproduce its logits.

Cost: decoding is one [rows, d_model] x [d_model, vocab] product and one log-softmax per row.
The gold token's log-probability is kept for every row; its rank, the top-k tokens and the
related-token mass (each another pass over the vocabulary) only for the rows that are reported.
The numbers are those of a plain log-softmax of every row: nothing is approximated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.metadata import version

import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor
from transformer_lens.model_bridge import TransformerBridge

from unlearn.errors import UserError

DECODE_BYTES = 64 * 2**20  # size of one chunk of decoded logits (float32)
# How far the decoded last layer's probabilities may sit from the model's own output. Kernels
# that sum in another order differ by rounding (~1e-6 in fp32; in bf16 a logit near 30 moves by
# 1/8 per rounding step); an undeclared transform differs by far more (Gemma-2 without its cap:
# up to 0.99).
READOUT_TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-3}
HALF_READOUT_TOLERANCE = 0.1


def decode_residual(
    model: TransformerBridge,
    resid: Float[Tensor, "... d_model"],
    out: Float[Tensor, "n d_vocab"] | None = None,
) -> Float[Tensor, "... d_vocab"]:
    """Logits of residual-stream vectors through the model's final norm, unembedding and
    final-logit transform (what the model outputs when its last block leaves `resid`).

    With `out` (rows of `resid` only) a plain linear unembedding writes into it: the same
    product as the module's, without allocating (and page-faulting) a fresh vocab-wide tensor.
    """
    normed = model.ln_final(resid)
    head = model.unembed.original_component
    if (
        out is not None
        and type(head) is torch.nn.Linear
        and normed.ndim == 2
        and normed.device == head.weight.device
        and out.dtype == head.weight.dtype
    ):
        # the bridge gives a bias-free head a zero bias; adding zeros changes no logit
        if head.bias is None or not head.bias.any():
            logits = torch.mm(normed, head.weight.t(), out=out)
        else:
            logits = torch.addmm(head.bias, normed, head.weight.t(), out=out)
    else:
        logits = model.unembed(normed)
    return model.adapter.apply_output_logits_transform(logits)


def _logits_buffer(model: TransformerBridge, n_rows: int, device: torch.device) -> Tensor:
    """Room for `n_rows` rows of logits, in the unembedding's dtype."""
    head = model.unembed.original_component
    weight = getattr(head, "weight", None)
    if isinstance(weight, Tensor) and weight.ndim == 2:
        return torch.empty((n_rows, weight.shape[0]), dtype=weight.dtype, device=device)
    return torch.empty((n_rows, model.cfg.d_vocab), device=device)


def readout_description(model: TransformerBridge) -> str:
    """The output head the lens decodes through, for the results' meta."""
    cap = getattr(model.cfg, "output_logits_soft_cap", None)
    capped = f", soft cap {cap:g}" if cap is not None and cap > 0 else ""
    return f"ln_final -> unembed -> {type(model.adapter).__name__}.apply_output_logits_transform{capped}"


def check_readout(
    model: TransformerBridge,
    resid: Float[Tensor, "n d_model"],
    logits: Float[Tensor, "n d_vocab"],
) -> None:
    """Refuse a model whose decoded last layer (`resid`) is not its own output (`logits`)."""
    decoded = decode_residual(model, resid, out=_logits_buffer(model, resid.shape[0], resid.device))
    error = (decoded.float().softmax(-1) - logits.float().softmax(-1)).abs().max().item()
    if not error <= READOUT_TOLERANCE.get(logits.dtype, HALF_READOUT_TOLERANCE):
        architecture = type(model.adapter).__name__.removesuffix("ArchitectureAdapter")
        raise UserError(
            f"the logit lens cannot reproduce the output of {getattr(model, 'checkpoint', 'this model')} "
            f"({architecture}): its last layer decoded through ln_final and unembed gives "
            f"probabilities up to {error:.3g} away from the model's own, so the lens would not show "
            f"what it outputs; "
            f"its architecture likely applies a final-logit transform that transformer-lens "
            f"{version('transformer-lens')} does not declare"
        )


@dataclass
class TokenStats:
    """What the lens records at each decoded row (one site at one answer position).

    Rows whose numbers are not reported carry rank 0, top ids -1 and NaN top probabilities and
    related mass (see `row_stats`).
    """

    gold_logprob: Float[Tensor, " n"]
    gold_rank: Int[Tensor, " n"]  # 1 = the gold token is the top prediction
    top_ids: Int[Tensor, "n k"]
    top_probs: Float[Tensor, "n k"]
    related_mass: Float[Tensor, " n"]

    def cpu(self) -> TokenStats:
        return TokenStats(*(getattr(self, name).cpu() for name in self.__dataclass_fields__))

    def select(self, part: slice | Int[Tensor, " m"]) -> TokenStats:
        return TokenStats(*(getattr(self, name)[part] for name in self.__dataclass_fields__))

    def spread(self, n_rows: int, rows: Int[Tensor, " m"]) -> TokenStats:
        """These stats of `rows` placed among `n_rows` rows; rows not decoded read NaN / 0 / -1."""
        full = TokenStats.empty(n_rows, self.top_ids.shape[1], self.gold_logprob.device)
        full.put(rows, self)
        return full

    def put(self, rows: Int[Tensor, " m"], part: TokenStats) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name)[rows] = getattr(part, name)

    @classmethod
    def empty(cls, n_rows: int, k: int, device: str | torch.device = "cpu") -> TokenStats:
        def full(shape: tuple[int, ...], fill: float, dtype: torch.dtype) -> Tensor:
            return torch.full(shape, fill, dtype=dtype, device=device)

        return cls(
            full((n_rows,), math.nan, torch.float32),
            full((n_rows,), 0, torch.long),
            full((n_rows, k), -1, torch.long),
            full((n_rows, k), math.nan, torch.float32),
            full((n_rows,), math.nan, torch.float32),
        )

    @classmethod
    def cat(cls, parts: list[TokenStats]) -> TokenStats:
        return cls(
            *(torch.cat([getattr(p, name) for p in parts]) for name in cls.__dataclass_fields__)
        )


def row_stats(
    log_probs: Float[Tensor, "n d_vocab"],
    targets: Int[Tensor, " n"],
    related: Int[Tensor, "n r"],
    related_mask: Bool[Tensor, "n r"],
    detail: Bool[Tensor, " n"],
    top: Bool[Tensor, " n"],
    top_k: int,
) -> TokenStats:
    """Each row's gold log-probability; its rank and related-token mass at `detail` rows, its
    top-k tokens at `detail` and `top` rows (each of these costs a pass over the vocabulary)."""
    stats = TokenStats.empty(log_probs.shape[0], max(top_k, 1), log_probs.device)
    gold = log_probs.gather(1, targets[:, None])
    stats.gold_logprob = gold[:, 0]
    topped = (detail | top).nonzero()[:, 0]
    if topped.numel():
        top_lp, top_ids = _rows(log_probs, topped).topk(max(top_k, 1), dim=1)
        stats.top_ids[topped], stats.top_probs[topped] = top_ids, top_lp.exp()
    chosen = detail.nonzero()[:, 0]
    if chosen.numel():
        rows = _rows(log_probs, chosen)
        stats.gold_rank[chosen] = (rows > gold[chosen]).sum(1) + 1
        stats.related_mass[chosen] = (
            rows.gather(1, related[chosen]).exp() * related_mask[chosen]
        ).sum(1)
    return stats


def _rows(values: Float[Tensor, "n v"], index: Int[Tensor, " m"]) -> Float[Tensor, "m v"]:
    """values[index] without copying when the index takes every row in order."""
    return values if index.numel() == values.shape[0] else values[index]


def decode_stats(
    model: TransformerBridge,
    resid: Float[Tensor, "n d_model"],
    targets: Int[Tensor, " n"],
    related: Int[Tensor, "n r"],
    related_mask: Bool[Tensor, "n r"],
    detail: Bool[Tensor, " n"],
    top: Bool[Tensor, " n"],
    top_k: int,
) -> TokenStats:
    """`row_stats` of residual vectors decoded by `decode_residual`, in row chunks of about
    DECODE_BYTES; the logits and log-probabilities of every chunk reuse two buffers."""
    n_rows, d_vocab = resid.shape[0], model.cfg.d_vocab
    if n_rows == 0:
        return TokenStats.empty(0, max(top_k, 1), resid.device)
    chunk = max(1, min(n_rows, DECODE_BYTES // (4 * d_vocab)))
    logits_buffer = _logits_buffer(model, chunk, resid.device)
    log_prob_buffer = torch.empty(logits_buffer.shape, dtype=torch.float32, device=resid.device)
    parts = []
    for begin in range(0, n_rows, chunk):
        part = slice(begin, min(begin + chunk, n_rows))
        size = part.stop - part.start
        logits = decode_residual(model, resid[part], out=logits_buffer[:size]).float()
        log_probs = torch.log_softmax(logits, -1, out=log_prob_buffer[:size])
        parts.append(
            row_stats(
                log_probs,
                targets[part],
                related[part],
                related_mask[part],
                detail[part],
                top[part],
                top_k,
            )
        )
    return TokenStats.cat(parts)
