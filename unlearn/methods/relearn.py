"""ReLearn (Xu et al., 2025): unlearn by learning — fine-tune on augmented, non-sensitive answers.

The forget-side term is plain cross-entropy on the ReLearn data (augmented forget questions with
vague answers, sentence completions and general-knowledge rows, made by `unlearn augment`);
the retain terms (CE_r and KL_r) keep the rest of the model's knowledge. The same cross-entropy
term is the vanilla fine-tune's objective.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jaxtyping import Float
from torch import Tensor

from unlearn.augment.rows import load_relearn_rows
from unlearn.data.loaders import JSON_LINES, load_data, parse_json_or_lines
from unlearn.errors import UserError
from unlearn.methods.batch import Forward, TokenBatch
from unlearn.methods.losses import answer_ce

if TYPE_CHECKING:
    from unlearn.train_config import TrainConfig


def learn_term(
    logits: Float[Tensor, "batch pos vocab"],
    batch: TokenBatch,
    reference: Forward | None,
    config: TrainConfig,
) -> Float[Tensor, ""]:
    """CE on the target answers (token mean): ReLearn's term on its data, SFT's on the records."""
    return answer_ce(logits, batch.labels, batch.n_tokens)


def load_relearn_pairs(spec: str | Path) -> list[tuple[str, str]]:
    """(prompt, target) pairs from `unlearn augment`'s JSONL ({prompt, target, kind, source_id}
    rows; every kind, sentence completions included, is trained as prompt → answer, as in the
    reference code), or (question, answer) pairs from any QA data spec (ours:, tofu:, knowundo:).
    The file is recognised by its content (rows with a "prompt"), whatever its suffix.
    """
    path = Path(str(spec))
    if path.is_file():
        rows, form = parse_json_or_lines(path, what="ReLearn data file")
        first = rows[0] if isinstance(rows, list) and rows else rows
        if isinstance(first, dict) and "prompt" in first:
            if form != JSON_LINES and isinstance(rows, list):  # a dict is a one-line file
                raise UserError(
                    f"ReLearn data file {path} is one JSON document; `unlearn augment` writes "
                    "JSON Lines (one row a line): rerun it or write one row a line"
                )
            return [(row["prompt"], row["target"]) for row in load_relearn_rows(path)]
    return [(record.question, record.answer) for record in load_data(spec)]
