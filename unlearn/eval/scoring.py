"""Score one set of generated answers: KFR or KRR with their ECS and NLI parts, ROUGE-L recall,
exact-fact recall, and (for the clean run) the Linguistic Score and fluency/relevance.

The LS perplexity scorer defaults to the base model before fine-tuning, found up the checkpoint's
card chain (`default_scorer`), as in the reference (the vanilla model would find its own memorised
answers fluent by construction); a base that is a randomly initialised preset (`tiny`) knows no
language, so there the vanilla model scores, and the description says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.embeddings import Embedder
from unlearn.eval.backends.entities import EntityBackend
from unlearn.eval.backends.judge import Judge
from unlearn.eval.backends.nli import NLIBackend
from unlearn.eval.metrics.ecs import entity_coverage
from unlearn.eval.metrics.kfr_krr import CONTRADICTION, Thresholds, is_forgotten, is_retained
from unlearn.eval.metrics.linguistic import brunet_index, honore_statistic, linguistic_score
from unlearn.eval.metrics.perplexity import answer_perplexities
from unlearn.eval.metrics.rouge import rouge_l_recall
from unlearn.models.card import lineage
from unlearn.presets import RANDOM_INIT_PRESETS
from unlearn.recall.recall import recalls, recalls_exact

FORGET, RETAIN = "forget", "retain"
PARAPHRASED = "forget_paraphrased"  # the forget set asked with its paraphrased questions


def mean(values: list[float]) -> float:
    """Mean of the non-NaN values; NaN when there are none."""
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


@dataclass
class Scorer:
    """The backends and models that turn generated answers into metric values."""

    entities: EntityBackend
    embed: Embedder
    nli: NLIBackend
    judge: Judge | None
    thresholds: Thresholds
    ppl_model: PreTrainedModel
    ppl_tokenizer: PreTrainedTokenizerBase
    batch_size: int = 16
    progress: bool = True
    _entity_cache: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def entities_of(self, questions: list[str], texts: list[str]) -> list[list[str]]:
        """Entities per text, memoised (gold answers are extracted once for every variant)."""
        keys = list(zip(questions, texts, strict=True))
        missing = list(dict.fromkeys(k for k in keys if k not in self._entity_cache))
        if missing:
            found = self.entities.extract([q for q, _ in missing], [t for _, t in missing])
            self._entity_cache.update(zip(missing, found, strict=True))
        return [list(self._entity_cache[k]) for k in keys]

    def score(
        self,
        kind: str,
        records: list[QARecord],
        generated: list[str],
        full: bool = True,
        asked: list[str] | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Aggregates and per-item details for a forget or retain set (`asked`: the questions
        put to the model when they are not the records' own, e.g. paraphrases)."""
        forget = kind == FORGET
        questions = asked or [r.question for r in records]
        labels = self.nli.labels(generated, records, forget)
        predicted = self.entities_of(questions, generated)
        gold = self.entities_of(questions, [r.answer for r in records])
        items: list[dict[str, Any]] = []
        for record, question, text, label, pred, gold_entities in zip(
            records, questions, generated, labels, predicted, gold, strict=True
        ):
            coverage = entity_coverage(record.question, pred, gold_entities, self.embed)
            outcome = (
                is_forgotten(label, coverage.score, len(coverage.gold), self.thresholds)
                if forget
                else is_retained(label, coverage.score, self.thresholds)
            )
            items.append(
                {
                    "id": record.id,
                    "question": question,
                    "gold": record.answer,
                    "generated": text,
                    "empty": not text.strip(),
                    "nli": label,
                    "entities_gold": coverage.gold,
                    "entities_pred": coverage.predicted,
                    "ecs": coverage.score,
                    "ecs_matches": coverage.matches,
                    "forgotten" if forget else "retained": outcome,
                    "rougeL_recall": rouge_l_recall(text, record.answer),
                    "recalled": recalls(text, record),
                    "recalled_exact": recalls_exact(text, record),
                }
            )
        values = {
            "KFR" if forget else "KRR": mean(
                [float(i["forgotten" if forget else "retained"]) for i in items]
            ),
            "ECS": mean([i["ecs"] for i in items]),
            "contradiction_rate": mean([float(i["nli"] == CONTRADICTION) for i in items]),
            "rougeL_recall": mean([i["rougeL_recall"] for i in items]),
            "fact_recall": mean([float(i["recalled"]) for i in items]),
            "fact_recall_exact": mean([float(i["recalled_exact"]) for i in items]),
            "n": len(items),
            "n_empty": sum(i["empty"] for i in items),
        }
        if full:
            values.update(self._language(questions, generated, items))
        return values, items

    def _language(
        self, questions: list[str], generated: list[str], items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """LS (and its parts) and fluency/relevance; fills the per-item fields too."""
        ppls = answer_perplexities(
            self.ppl_model, self.ppl_tokenizer, questions, generated, self.batch_size, self.progress
        )
        for item, ppl, text in zip(items, ppls, generated, strict=True):
            item.update(ppl=ppl, brunet=brunet_index(text), honore=honore_statistic(text))
        mean_ppl = mean(ppls)
        mean_brunet = mean([i["brunet"] for i in items])
        mean_honore = mean([i["honore"] for i in items])
        ls = linguistic_score(mean_ppl, mean_brunet, mean_honore)
        values: dict[str, Any] = {
            "LS": ls.arithmetic,
            "LS_harmonic": ls.harmonic,
            "PPL": mean_ppl,
            "brunet": mean_brunet,
            "honore": mean_honore,
            "n_nan_ppl": sum(math.isnan(p) for p in ppls),
        }
        if self.judge is not None:
            fluency_key, relevance_key = self.judge.keys
            scores = self.judge.score(questions, generated, ppls)
            for item, (fluency, relevance) in zip(items, scores, strict=True):
                item.update({fluency_key: fluency, relevance_key: relevance})
            values[fluency_key] = mean([s[0] for s in scores])
            values[relevance_key] = mean([s[1] for s in scores])
            values["n_judge_failed"] = sum(math.isnan(s[0]) or math.isnan(s[1]) for s in scores)
        return values


def default_scorer(path: str | Path) -> tuple[str, str]:
    """The base model before fine-tuning (the parent of the lineage's vanilla model), else the
    vanilla model, else the checkpoint itself; with how it was chosen."""
    chain = lineage(path)
    for index, (candidate, card) in enumerate(chain):
        if card.get("method") != "vanilla":
            continue
        base = chain[index + 1][0] if index + 1 < len(chain) else None
        if base is not None and base not in RANDOM_INIT_PRESETS:
            return base, "the base model before fine-tuning, as in the reference"
        why = (
            f"its base {base!r} is randomly initialised and knows no language"
            if base
            else "its base model is not found"
        )
        where = (
            "the checkpoint itself (a vanilla model)"
            if candidate == str(path)
            else "the vanilla model"
        )
        return candidate, f"{where}, as {why}"
    return str(
        path
    ), "the checkpoint itself: no vanilla model found in its relearn.json lineage (pass --scorer)"
