"""The ReLearn data pipeline: diversify questions, write vague answers, verify, complete, mix.

For each forget record: `variants` question variants of each of the four kinds; one vague answer
per kept question variant and `variants` vague answers to the original question; every candidate
verified (rules, then the backend's LLM leak check where it has one) and regenerated up to
`rounds` times; each kept answer also becomes a sentence-completion row; general QA is mixed in
at `general_ratio` times the augmented size; quality figures (refusals, variety, relevance,
leaks: `unlearn.augment.quality`) go into the statistics. The sensitive pair itself is left
out by default: training on it would teach exactly the fact to be forgotten (the reference code
includes it; `include_original` restores that, as kind "original").
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from unlearn.augment.backends import (
    QUESTION_KINDS,
    AnswerJob,
    Backend,
    BackendOptions,
    CheckJob,
    QuestionJob,
    make_backend,
)
from unlearn.augment.quality import quality
from unlearn.augment.rows import (
    COMPLETION_FRACTION,
    ORIGINAL_KIND,
    Row,
    completion_row,
    make_row,
    rows_to_jsonl,
)
from unlearn.augment.verify import Verifier, normalise
from unlearn.data.records import QARecord
from unlearn.embeddings import DEFAULT_EMBEDDINGS
from unlearn.errors import UserError
from unlearn.io import hash_json, sha256_bytes, versions, write_json, write_text

MAX_EXAMPLES = 25
MAX_ROUNDS = 10


@dataclass(frozen=True)
class AugmentConfig:
    """How much to generate and how to verify and mix it (defaults follow the ReLearn reference)."""

    variants: int = 1
    rounds: int = 3
    general_ratio: float = 1.2
    completion_fraction: float = COMPLETION_FRACTION
    include_original: bool = False
    llm_check: bool = True
    embeddings: str | None = DEFAULT_EMBEDDINGS  # relevance in the quality figures; None skips it

    def validate(self) -> None:
        if self.variants < 1:
            raise UserError(f"variants must be at least 1, got {self.variants}")
        if not 1 <= self.rounds <= MAX_ROUNDS:
            raise UserError(f"rounds must be between 1 and {MAX_ROUNDS}, got {self.rounds}")
        if self.general_ratio < 0:
            raise UserError(f"general ratio must be >= 0, got {self.general_ratio}")
        if not 0 < self.completion_fraction < 1:
            raise UserError(
                f"completion fraction must be in (0, 1), got {self.completion_fraction}"
            )


@dataclass
class ItemStats:
    """Counts for one forget record: candidates generated, regenerations, rejections, rows kept."""

    generated: int = 0
    regenerated: int = 0
    llm_checks: int = 0
    rejected: Counter = field(default_factory=Counter)
    dropped: int = 0
    kept_by_kind: Counter = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "generated": self.generated,
            "regenerated": self.regenerated,
            "llm_checks": self.llm_checks,
            "rejected": dict(sorted(self.rejected.items())),
            "dropped": self.dropped,
            "kept": sum(self.kept_by_kind.values()),
            "kept_by_kind": dict(sorted(self.kept_by_kind.items())),
        }


@dataclass(frozen=True)
class Slot:
    """One thing to generate: a question variant (kind, question=None) or an answer to `question`.

    Identified by (source_id, kind, slot); the record itself is carried along, not compared.
    """

    source_id: str
    kind: str
    slot: int
    n_slots: int
    record: QARecord = field(compare=False)
    question: str | None = field(default=None, compare=False)


class _Run:
    """State of one augmentation run: the backend, the verifier and the statistics."""

    def __init__(
        self, backend: Backend, forget: list[QARecord], config: AugmentConfig, progress: bool
    ) -> None:
        self.backend = backend
        backend.progress = progress
        self.config = config
        self.verifier = Verifier(forget)
        self.use_llm_check = config.llm_check and backend.llm_check
        self.items = {record.id: ItemStats() for record in forget}
        self.examples: list[dict[str, Any]] = []
        self.stages: dict[str, dict[str, int]] = {}
        self.progress = progress

    def _reject(self, slot: Slot, stage: str, reason: str, text: str | None) -> None:
        self.items[slot.record.id].rejected[reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            example = {"source_id": slot.record.id, "stage": stage, "reason": reason, "text": text}
            if reason == "entity_leak" and text:
                example["leaked"] = self.verifier.leaks(slot.record, text)
            self.examples.append(example)

    def generate(
        self,
        slots: list[Slot],
        stage: str,
        ask: Callable[[list[Slot], int], list[str | None]],
        seen: dict[str, set[str]],
    ) -> dict[Slot, str]:
        """Ask, verify and regenerate up to `rounds` times; returns the kept text of each slot.

        `seen` holds, per record, the normalised texts a new candidate must differ from.
        """
        kept: dict[Slot, str] = {}
        bar = tqdm(total=len(slots), desc=stage, leave=False, disable=not self.progress)
        for attempt in range(self.config.rounds):
            pending = [slot for slot in slots if slot not in kept]
            if not pending:
                break
            candidates = []
            for slot, text in zip(pending, ask(pending, attempt), strict=True):
                item = self.items[slot.record.id]
                item.generated += 1
                item.regenerated += attempt > 0
                reason = self.verifier.problem(slot.record, text)
                if (
                    reason is None
                    and stage == "question"
                    and normalise(text) == normalise(slot.record.question)
                ):
                    reason = "unchanged"
                if reason:
                    self._reject(slot, stage, reason, text)
                else:
                    candidates.append((slot, text))
            if self.use_llm_check and stage == "answer" and candidates:
                candidates = self._llm_check(candidates, attempt, stage)
            for slot, text in candidates:
                key = (
                    normalise(text)
                    if stage == "question"
                    else normalise(f"{slot.question} || {text}")
                )
                if key in seen[slot.record.id]:
                    self._reject(slot, stage, "duplicate", text)
                    continue
                seen[slot.record.id].add(key)
                kept[slot] = text
                bar.update()
        for slot in slots:
            if slot not in kept:
                self.items[slot.record.id].dropped += 1
        self.stages[stage] = {
            "slots": len(slots),
            "kept": len(kept),
            "dropped": len(slots) - len(kept),
        }
        bar.close()
        return kept

    def _llm_check(
        self, candidates: list[tuple[Slot, str]], attempt: int, stage: str
    ) -> list[tuple[Slot, str]]:
        jobs = [CheckJob(slot.record, text, attempt) for slot, text in candidates]
        passed = []
        for (slot, text), verdict in zip(candidates, self.backend.leak_checks(jobs), strict=True):
            self.items[slot.record.id].llm_checks += 1
            if verdict is None:
                self._reject(slot, stage, "check_malformed", text)
            elif verdict:
                self._reject(slot, stage, "llm_leak", text)
            else:
                passed.append((slot, text))
        return passed


def _question_stage(run: _Run, forget: list[QARecord]) -> dict[Slot, str]:
    n = run.config.variants
    slots = [Slot(r.id, kind, i, n, r) for r in forget for kind in QUESTION_KINDS for i in range(n)]
    seen = {r.id: {normalise(r.question)} for r in forget}

    def ask(pending: list[Slot], attempt: int) -> list[str | None]:
        return run.backend.question_variants(
            [QuestionJob(s.record, s.kind, s.slot, s.n_slots, attempt) for s in pending]
        )

    return run.generate(slots, "question", ask, seen)


def _answer_stage(run: _Run, forget: list[QARecord], questions: dict[Slot, str]) -> dict[Slot, str]:
    per_record: dict[str, list[tuple[str, str]]] = {r.id: [] for r in forget}
    for slot, question in questions.items():
        per_record[slot.record.id].append(("question_variant", question))
    slots = []
    for record in forget:
        asks = [("answer_variant", record.question)] * run.config.variants + per_record[record.id]
        slots += [
            Slot(record.id, kind, i, len(asks), record, question)
            for i, (kind, question) in enumerate(asks)
        ]
    seen = {r.id: {normalise(f"{r.question} || {r.answer}")} for r in forget}

    def ask(pending: list[Slot], attempt: int) -> list[str | None]:
        jobs = [
            AnswerJob(s.record, s.question or s.record.question, s.slot, s.n_slots, attempt)
            for s in pending
        ]
        return run.backend.vague_answers(jobs)

    return run.generate(slots, "answer", ask, seen)


def _rows(
    run: _Run, forget: list[QARecord], answers: dict[Slot, str]
) -> tuple[list[Row], dict[str, int]]:
    """Rows in a readable order (per record: original, variants, completions); the trainer shuffles."""
    by_record: dict[str, list[tuple[Slot, str]]] = {r.id: [] for r in forget}
    for slot, answer in sorted(answers.items(), key=lambda item: item[0].slot):
        by_record[slot.record.id].append((slot, answer))
    rows: list[Row] = []
    completion = {"made": 0, "too_short": 0}
    for record in forget:
        item = run.items[record.id]
        if run.config.include_original:
            rows.append(make_row(record.question, record.answer, ORIGINAL_KIND, record.id))
            item.kept_by_kind[ORIGINAL_KIND] += 1
        targets = []
        for slot, answer in by_record[record.id]:
            rows.append(make_row(slot.question or record.question, answer, slot.kind, record.id))
            item.kept_by_kind[slot.kind] += 1
            targets.append(answer)
        for answer in dict.fromkeys(targets):
            row = completion_row(answer, record.id, run.config.completion_fraction)
            if row is None:
                completion["too_short"] += 1
                continue
            rows.append(row)
            item.kept_by_kind["completion"] += 1
            completion["made"] += 1
    return rows, completion


def mix_general(
    general: Sequence[QARecord], n_augmented: int, ratio: float, seed: int
) -> tuple[list[Row], dict[str, Any]]:
    """Up to int(ratio * n_augmented) general QA rows, drawn without repeats in a seeded order."""
    requested = int(n_augmented * ratio)
    pool = list(general)
    random.Random(f"general|{seed}").shuffle(pool)
    rows = [make_row(r.question, r.answer, "general", r.id) for r in pool[:requested]]
    return rows, {"ratio": ratio, "requested": requested, "available": len(pool), "used": len(rows)}


def _totals(items: dict[str, ItemStats]) -> dict[str, Any]:
    total = ItemStats()
    for item in items.values():
        total.generated += item.generated
        total.regenerated += item.regenerated
        total.llm_checks += item.llm_checks
        total.rejected += item.rejected
        total.dropped += item.dropped
        total.kept_by_kind += item.kept_by_kind
    return total.to_json()


def stats_path(out: str | Path) -> Path:
    """The statistics sidecar of a ReLearn data file: `<FILE>.stats.json`."""
    out = Path(out)
    return out.with_name(out.name + ".stats.json")


def augment(
    forget_records: Sequence[QARecord],
    general_records: Sequence[QARecord],
    backend: Backend | str,
    out: str | Path,
    seed: int = 0,
    config: AugmentConfig = AugmentConfig(),
    options: BackendOptions = BackendOptions(),
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Build the ReLearn training file `out` (JSONL) and `<out>.stats.json`; returns the statistics.

    Raises UserError for an empty forget set, duplicate record ids, an existing `out` without
    `overwrite`, or a run in which no augmented row survived verification (the statistics are
    still written so the rejections can be inspected).
    """
    forget = list(forget_records)
    if not forget:
        raise UserError("the forget data holds no records; give a non-empty forget split or file")
    duplicates = [rid for rid, n in Counter(r.id for r in forget).items() if n > 1]
    if duplicates:
        raise UserError(
            f"forget records must have unique ids; repeated: {', '.join(duplicates[:5])}"
        )
    config.validate()
    out = Path(out)
    if out.exists() and not overwrite:
        raise UserError(f"output {out} already exists; pass --overwrite to replace it")
    if isinstance(backend, str):
        backend = make_backend(backend, seed, options)

    run = _Run(backend, forget, config, progress)
    questions = _question_stage(run, forget)
    answers = _answer_stage(run, forget, questions)
    rows, completion = _rows(run, forget, answers)
    general_rows, general_info = mix_general(general_records, len(rows), config.general_ratio, seed)
    rows += general_rows

    text = rows_to_jsonl(rows)
    stats = {
        "meta": {
            "backend": backend.describe(),
            "seed": seed,
            "settings": {**asdict(config), "llm_check_used": run.use_llm_check},
            "data_hash": {
                "forget": hash_json([r.to_json() for r in forget]),
                "general": hash_json([r.to_json() for r in general_records]),
            },
            "versions": versions(),
            "output": {
                "file": out.name,
                "rows": len(rows),
                "sha256": sha256_bytes(text.encode())[:16],
            },
        },
        "values": {
            "totals": _totals(run.items),
            "stages": run.stages,
            "rows_by_kind": dict(sorted(Counter(row["kind"] for row in rows).items())),
            "quality": quality(rows, forget, backend.generator, config.embeddings),
            "completion": {"fraction": config.completion_fraction, **completion},
            "general": general_info,
            "items": {rid: item.to_json() for rid, item in run.items.items()},
            "rejection_examples": run.examples,
        },
    }
    if not answers:
        out.unlink(missing_ok=True)
        write_json(stats_path(out), stats)
        raise UserError(
            f"no augmented row survived verification with backend {backend.name}; "
            f"see the rejections in {stats_path(out)}"
        )
    write_text(out, text)
    write_json(stats_path(out), stats)
    return stats
