"""Natural-language inference for the ES term of KFR/KRR: `kb` (fact lookup), `proxy` (entity
containment plus embedding similarity, `unlearn.eval.backends.proxy`) or `hf:PATH`. `kb` gives way
to `proxy`, named so, when the data has no fact triples (real TOFU or KnowUnDo files).

Direction as in the reference code: on the forget set the premise is the generated answer and the
hypothesis the gold answer; on the retain set the premise is the gold answer and the hypothesis
the generated one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from unlearn.data.records import QARecord
from unlearn.embeddings import Embedder
from unlearn.errors import UserError
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.eval.backends.proxy import NO_TRIPLES, ProxyNLI
from unlearn.eval.metrics.kfr_krr import CONTRADICTION, ENTAILMENT, NEUTRAL

LABEL_ALIASES = {
    "entailment": ENTAILMENT,
    "entails": ENTAILMENT,
    "neutral": NEUTRAL,
    "contradiction": CONTRADICTION,
    "contradicts": CONTRADICTION,
    "not_entailment": NEUTRAL,
}


class NLIBackend(Protocol):
    name: str

    def labels(self, generated: list[str], records: list[QARecord], forget: bool) -> list[str]:
        """entailment / neutral / contradiction between each generated answer and its gold answer."""
        ...


class KBNLI:
    """Entailment when the answer states the gold object, contradiction when it states another
    object of the same type (and not the gold one), neutral otherwise. Symmetric, so the premise
    and hypothesis order does not matter."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.name = "kb (knowledge-base proxy for deberta-v3-base-tasksource-nli)"

    def label(self, generated: str, record: QARecord) -> str:
        if record.fact is None:
            raise UserError(
                f"record {record.id} has no fact triple; the kb NLI needs one "
                "(use --nli proxy or hf:PATH)"
            )
        if self.kb.states(generated, record.fact.object):
            return ENTAILMENT
        if any(self.kb.states(generated, other) for other in self.kb.rivals(record.fact)):
            return CONTRADICTION
        return NEUTRAL

    def labels(self, generated: list[str], records: list[QARecord], forget: bool) -> list[str]:
        return [self.label(text, record) for text, record in zip(generated, records, strict=True)]


class HFNLI:
    """Any local MNLI-style sequence classifier whose labels are entailment/neutral/contradiction."""

    def __init__(self, path: str, device: str | None = None, batch_size: int = 16) -> None:
        from transformers import pipeline

        if not Path(path).is_dir():
            raise UserError(f"NLI model folder {path} does not exist (use --nli kb or hf:FOLDER)")
        self.pipe = pipeline("text-classification", model=path, device=device or "cpu")
        names = {str(v).lower() for v in self.pipe.model.config.id2label.values()}
        if not names & set(LABEL_ALIASES):
            raise UserError(
                f"NLI model {path} has labels {sorted(names)}; need entailment/neutral/contradiction"
            )
        self.batch_size = batch_size
        self.name = f"hf:{Path(path).name} (local NLI classifier)"

    def labels(self, generated: list[str], records: list[QARecord], forget: bool) -> list[str]:
        pairs = [
            {"text": text, "text_pair": r.answer}
            if forget
            else {"text": r.answer, "text_pair": text}
            for text, r in zip(generated, records, strict=True)
        ]
        outputs = self.pipe(pairs, batch_size=self.batch_size, truncation=True)
        return [LABEL_ALIASES.get(str(o["label"]).lower(), NEUTRAL) for o in outputs]


def nli_backend(
    spec: str,
    kb: KnowledgeBase | None,
    device: str | None = None,
    embed: Embedder | None = None,
) -> NLIBackend:
    """The backend a spec names; `kb` without a knowledge base (data without fact triples) is the
    proxy, named so. `embed` lets the proxy share the evaluation's embedder."""
    if spec == "proxy":
        return ProxyNLI(embed, device)
    if spec == "kb":
        return KBNLI(kb) if kb is not None else ProxyNLI(embed, device, reason=NO_TRIPLES)
    if spec.startswith("hf:"):
        return HFNLI(spec[3:], device)
    raise UserError(f"unknown NLI backend {spec!r}; use kb, proxy or hf:FOLDER")
