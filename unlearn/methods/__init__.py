"""The unlearning methods behind one registry.

A method is a forget-side term (GA, NPO, or ReLearn's cross-entropy on its own data) plus
optional retain terms — GDR: + CE_r, KLR: + KL(p_ref ‖ p_θ) on retain batches — and, for the
`*_sure` variants, SURE's saliency mask on the gradient. `compute_terms` evaluates one micro-batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jaxtyping import Float
from torch import Tensor

from unlearn.errors import UserError
from unlearn.methods.batch import Forward, TokenBatch
from unlearn.methods.ga import ga_term
from unlearn.methods.losses import answer_ce, kl_from_reference_logprobs, kl_to_reference
from unlearn.methods.npo import npo_term
from unlearn.methods.reference import CachedReference
from unlearn.methods.relearn import learn_term
from unlearn.methods.settings import LossSettings

ForgetTerm = Callable[[Tensor, TokenBatch, "Forward | None", LossSettings], Tensor]
RETAIN_TERMS = ("ce", "kl")
FAMILIES = ("ga", "npo", "relearn", "sft")


@dataclass(frozen=True)
class Method:
    """One unlearning objective.

    `family` is the forget-side objective the variants share (`ga`, `npo`, `relearn`, `sft`):
    read it here, never from the name. `data` says what the forget-side term trains on: the
    forget set, or the ReLearn data.
    """

    name: str
    family: str
    forget_term: ForgetTerm
    retain_terms: tuple[str, ...] = ()
    sure: bool = False
    data: str = "forget"
    reference_on_forget: bool = False

    @property
    def needs_reference(self) -> bool:
        return self.reference_on_forget or "kl" in self.retain_terms

    @property
    def needs_retain(self) -> bool:
        return bool(self.retain_terms)


def _reverse_family(stem: str, term: ForgetTerm, reference_on_forget: bool) -> dict[str, Method]:
    variants = {stem: (), f"{stem}_gdr": ("ce",), f"{stem}_klr": ("kl",)}
    methods = {}
    for name, retain in variants.items():
        for sure in (False, True):
            full = f"{name}_sure" if sure else name
            methods[full] = Method(full, stem, term, retain, sure, "forget", reference_on_forget)
    return methods


METHODS: dict[str, Method] = {
    **_reverse_family("ga", ga_term, reference_on_forget=False),
    **_reverse_family("npo", npo_term, reference_on_forget=True),
    "relearn": Method("relearn", "relearn", learn_term, ("ce", "kl"), data="relearn"),
    "relearn_gdr": Method("relearn_gdr", "relearn", learn_term, ("ce",), data="relearn"),
    "relearn_klr": Method("relearn_klr", "relearn", learn_term, ("kl",), data="relearn"),
}
SFT = Method("sft", "sft", learn_term)
"""Supervised fine-tuning on answer tokens: the vanilla model's objective (not an unlearning method)."""


def get_method(name: str) -> Method:
    """The registered method called `name`; a UserError lists the valid ones."""
    if name not in METHODS:
        raise UserError(f"unknown method {name!r}; valid methods: {', '.join(METHODS)}")
    return METHODS[name]


@dataclass
class Terms:
    """A micro-batch's loss, its forget-side term (SURE's saliency source) and named parts.

    `retain` is the weighted sum of the retain terms alone (None without them), so that SURE can
    backpropagate the forget graph and the retain graph once each: total = w_f · forget + retain.
    """

    total: Float[Tensor, ""]
    forget: Float[Tensor, ""]
    parts: dict[str, Float[Tensor, ""]]
    retain: Float[Tensor, ""] | None = None


def _retain_kl(
    logits: Float[Tensor, "batch pos vocab"],
    reference: CachedReference,
    retain: TokenBatch,
    config: LossSettings,
) -> Float[Tensor, ""]:
    """KL_r against the reference: cached answer positions, or every position live."""
    if config.kl_positions == "all":
        ref_logits = reference.logits(retain)
        return kl_to_reference(logits, ref_logits, retain.labels, True, retain.n_tokens)
    ref_logp = reference.answer_logprobs(retain)
    return kl_from_reference_logprobs(logits, ref_logp, retain.labels, retain.n_tokens)


def compute_terms(
    method: Method,
    policy: Forward,
    reference: Forward | CachedReference | None,
    forget: TokenBatch,
    retain: TokenBatch | None,
    config: LossSettings,
) -> Terms:
    """L = w_f · forget term + w_r · CE_r + w_kl · KL_r (retain terms as the method has them)."""
    forget_value = method.forget_term(policy(forget), forget, reference, config)
    parts = {"forget": forget_value}
    total = config.forget_weight * forget_value
    retain_total = None
    if method.retain_terms:
        if retain is None:
            raise ValueError(f"method {method.name} needs a retain batch")
        retain_logits = policy(retain)
        if "ce" in method.retain_terms:
            parts["retain_ce"] = answer_ce(retain_logits, retain.labels, retain.n_tokens)
            total = total + config.retain_weight * parts["retain_ce"]
            retain_total = config.retain_weight * parts["retain_ce"]
        if "kl" in method.retain_terms:
            if reference is None:
                raise ValueError(f"method {method.name} needs the reference model")
            parts["retain_kl"] = _retain_kl(
                retain_logits, CachedReference.of(reference), retain, config
            )
            kl = config.kl_weight * parts["retain_kl"]
            total = total + kl
            retain_total = kl if retain_total is None else retain_total + kl
    return Terms(total=total, forget=forget_value, parts=parts, retain=retain_total)
