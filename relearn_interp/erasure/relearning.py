"""The relearning attack and its control.

Attack (after Deeb & Roger, arXiv 2410.08827): fine-tune a copy of the checkpoint for a few steps
on one half of the forget facts, then ask for the other half. The facts are independent fictitious
facts, so training on one half cannot teach the other: a held-out fact that comes back was still in
the model. Control (after Łucki et al., arXiv 2409.18025, where unrelated fine-tuning also undoes
unlearning): the same steps, learning rate and number of records on retain facts only, never on a
forget fact (no shared id, question, answer or subject), so recovery by any fine-tuning is told
apart from recovery by relearning related facts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.training.attack import relearn, split_halves


@dataclass(frozen=True)
class RelearnSettings:
    """Full fine-tuning steps of the attack (and of the control); lr None: the caller's default."""

    steps: int = 5
    lr: float | None = None
    batch_size: int = 8
    mixed_precision: str = "no"
    seed: int = 0

    def check(self) -> None:
        if self.steps < 0 or self.batch_size < 1:
            raise UserError(
                f"--relearn-steps must be ≥ 0 and --relearn-batch ≥ 1, got {self.steps} and {self.batch_size}"
            )
        if self.lr is not None and self.lr <= 0:
            raise UserError(f"--relearn-lr must be positive, got {self.lr}")


def attack_split(records: list[QARecord], seed: int) -> tuple[list[QARecord], list[QARecord]]:
    """The attacker's half of the forget records and the held-out half (`split_halves`)."""
    return split_halves(records, seed)


def _keys(record: QARecord) -> set[str]:
    keys = {f"id:{record.id}", f"q:{record.question.strip()}", f"a:{record.answer.strip()}"}
    if record.fact is not None:
        keys.add(f"s:{record.fact.subject}")
    return keys


def control_records(
    retain: list[QARecord], forget: list[QARecord], count: int, seed: int
) -> list[QARecord]:
    """`count` retain records (seeded sample) sharing no id, question, answer or subject with any
    forget record."""
    banned = set().union(*(_keys(r) for r in forget)) if forget else set()
    allowed = [r for r in retain if not _keys(r) & banned]
    if not allowed:
        raise UserError(
            "the relearning control needs retain records unrelated to the forget set; "
            "--retain holds none (every one shares an id, question, answer or subject with it)"
        )
    rng = random.Random(seed)
    return sorted(rng.sample(allowed, min(count, len(allowed))), key=lambda r: r.id)


def training_stream(records: list[QARecord], settings: RelearnSettings) -> list[QARecord]:
    """`steps × batch` records: seeded passes over `records`, one optimizer step per batch."""
    rng = random.Random(settings.seed)
    stream: list[QARecord] = []
    while len(stream) < settings.steps * settings.batch_size:
        order = list(records)
        rng.shuffle(order)
        stream += order
    return stream[: settings.steps * settings.batch_size]


def fine_tune(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    settings: RelearnSettings,
    lr: float,
) -> tuple[PreTrainedModel, list[float]]:
    """A fine-tuned float32 copy of `model` (`settings.steps` full steps) and its step losses:
    the one relearning attack (`unlearn.training.attack.relearn`), one epoch over the stream."""
    if not records:
        raise UserError("the relearning attack needs records to train on; got none")
    batch = min(settings.batch_size, len(records))
    stream = training_stream(records, RelearnSettings(**{**settings.__dict__, "batch_size": batch}))
    return relearn(model, tokenizer, stream, epochs=1, lr=lr, batch_size=batch,
                   seed=settings.seed, mixed_precision=settings.mixed_precision)  # fmt: skip
