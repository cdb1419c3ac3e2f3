"""What one evaluation shares: its settings (`EvalConfig`) and its context (`Context`: the model,
its forget and retain sets and the scorer), through which the clean run and every robustness
attack generate and score answers alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.embeddings import DEFAULT_EMBEDDINGS
from unlearn.eval.backends.chat import DEFAULT_KEY_ENV
from unlearn.eval.metrics.kfr_krr import Thresholds
from unlearn.eval.scoring import Scorer
from unlearn.recall.generation import GenerationConfig, generate_answers


@dataclass
class EvalConfig:
    """What to generate, which backend computes each metric, and which attacks to run."""

    generation: GenerationConfig = field(default_factory=GenerationConfig)
    entities: str = "kb"  # kb | openai:URL[#MODEL] | hf:PATH
    embeddings: str = DEFAULT_EMBEDDINGS  # minilm | a sentence-transformers folder
    nli: str = "kb"  # kb | hf:PATH
    judge: str = "proxy"  # proxy | none | openai:URL[#MODEL] | hf:PATH
    scorer: str | None = None  # PPL scorer; default: the vanilla model of the checkpoint's lineage
    world: str | None = None  # benchmark folder for the kb backends (default: the data's folder)
    api_key_env: str = DEFAULT_KEY_ENV
    dtype: str = "float32"
    precisions: tuple[str, ...] = ()
    quantize: tuple[int, ...] = ()
    jailbreak: str | None = None
    relearn_steps: int = 0
    relearn_lr: float | None = None
    paraphrased: bool = False  # also score the forget set's paraphrased questions
    thresholds: Thresholds = field(default_factory=Thresholds)
    limit: int | None = None
    device: str | None = None
    name: str | None = None
    seed: int = 0
    overwrite: bool = False
    progress: bool = True


@dataclass
class Context:
    """What every run of one evaluation shares: the model, its sets, and the scorer."""

    config: EvalConfig
    model_path: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    sets: dict[str, list[QARecord]]
    scorer: Scorer
    device: torch.device

    def run(
        self,
        model: PreTrainedModel,
        label: str,
        sets: dict[str, list[QARecord]] | None = None,
        questions: dict[str, list[str]] | None = None,
        full: bool = False,
        given: dict[str, list[str]] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Generate answers for each set with `model` (a set in `given` takes those answers
        instead) and score them; (values, items) keyed by set."""
        values, items = {}, {}
        for kind, records in (sets or self.sets).items():
            asked = questions[kind] if questions else [r.question for r in records]
            generation, progress = self.config.generation, self.config.progress
            generated = (given or {}).get(kind) or generate_answers(
                model, self.tokenizer, asked, generation, progress, desc=f"{label} {kind}"
            )
            values[kind], items[kind] = self.scorer.score(
                kind, records, generated, full=full, asked=asked
            )
        return values, items
