"""Clean/corrupted prompt pairs of equal token length, from the fact triples or a user CSV.

From the triples: the clean prompt is the chat prompt of a fact's question followed by the answer
up to the object (`QARecord.answer_prefix`), tokenized exactly as in training; the gold token is
the first token of the object as it continues that answer. The corrupted prompt asks the same
relation about another author whose prompt has the same token length (so the names have the same
token length), and its object's first token is the corrupted gold. Pairs whose two first tokens
coincide carry no logit difference and are skipped, and counted.

From a CSV (columns clean, corrupted, gold, corrupted_gold): prompts are used verbatim
(tokenized with the tokenizer's special tokens); gold texts are continuations, so include the
leading space where the token has one. Pairs of unequal token length are refused, naming them.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from jaxtyping import Bool, Int
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.prompting import has_chat_template, prompt_ids

CSV_COLUMNS = ("clean", "corrupted", "gold", "corrupted_gold")
SKIP_SAME_TOKEN = "same_first_token"
SKIP_NO_PARTNER = "no_equal_length_subject"
SKIP_NO_CLOZE = "object_not_in_answer"


@dataclass(frozen=True)
class Pair:
    """One clean/corrupted pair; `subject_positions` are where the two prompts differ."""

    id: str
    clean_ids: list[int]
    corrupted_ids: list[int]
    gold: int
    corrupted_gold: int
    clean_text: str = ""
    corrupted_text: str = ""
    gold_text: str = ""
    corrupted_gold_text: str = ""
    subject: str = ""
    corrupted_subject: str = ""
    relation: str = ""

    @property
    def subject_positions(self) -> list[int]:
        return [
            i
            for i, (a, b) in enumerate(zip(self.clean_ids, self.corrupted_ids, strict=True))
            if a != b
        ]


@dataclass
class PairSet:
    """The pairs used, and the ids skipped per reason."""

    pairs: list[Pair]
    source: str
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_pairs": len(self.pairs),
            "skipped": {reason: len(ids) for reason, ids in self.skipped.items()},
            "skipped_ids": self.skipped,
            "pairs": [{**asdict(p), "subject_positions": p.subject_positions} for p in self.pairs],
        }


@dataclass
class Batch:
    """Tensors of a few pairs, right-padded (causal attention never reads the padding)."""

    clean: Int[Tensor, "batch pos"]
    corrupted: Int[Tensor, "batch pos"]
    gold: Int[Tensor, " batch"]
    corrupted_gold: Int[Tensor, " batch"]
    last: Int[Tensor, " batch"]
    subject: Bool[Tensor, "batch pos"]

    @property
    def size(self) -> int:
        return int(self.clean.shape[0])

    @property
    def n_positions(self) -> int:
        return int(self.clean.shape[1])


def cloze(
    tokenizer: PreTrainedTokenizerBase, question: str, answer: str, obj: str
) -> tuple[list[int], int] | None:
    """(prompt + answer tokens before the object, first object token), tokenized as in training."""
    if not tokenizer.is_fast:
        raise UserError(
            "circuit pairs need a fast tokenizer (offset mapping); this checkpoint's is not"
        )
    text = answer if has_chat_template(tokenizer) else " " + answer
    if obj not in text:
        return None
    start = text.index(obj)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoded["input_ids"], encoded["offset_mapping"]
    first = next((i for i, (_, end) in enumerate(offsets) if end > start), None)
    if first is None:
        return None
    return prompt_ids(tokenizer, question) + ids[:first], ids[first]


def _decode(tokenizer: PreTrainedTokenizerBase, ids: Sequence[int] | int) -> str:
    return tokenizer.decode([ids] if isinstance(ids, int) else list(ids))


def entity_pairs(
    tokenizer: PreTrainedTokenizerBase, records: list[QARecord], entity: str, seed: int = 0
) -> PairSet:
    """Pairs for every fact of `entity`, each corrupted by a same-length author (chosen with `seed`)."""
    by_subject: dict[str, dict[str, QARecord]] = {}
    for record in records:
        if record.fact is not None:
            by_subject.setdefault(record.fact.subject, {}).setdefault(record.fact.relation, record)
    match = next((s for s in by_subject if s.lower() == entity.strip().lower()), None)
    if match is None:
        known = ", ".join(sorted(by_subject)[:5]) or "none (the data holds no fact triples)"
        raise UserError(f"no facts about {entity!r} in the data; subjects include: {known}")
    others = sorted(s for s in by_subject if s != match)
    pairs: list[Pair] = []
    skipped: dict[str, list[str]] = {}
    for relation, record in by_subject[match].items():
        clean = cloze(tokenizer, record.question, record.answer, record.fact.object)
        if clean is None:
            skipped.setdefault(SKIP_NO_CLOZE, []).append(record.id)
            continue
        candidates = [s for s in others if relation in by_subject[s]]
        random.Random(f"{seed}:{record.id}").shuffle(candidates)
        pair, reason = _partner(
            tokenizer, record, clean, [by_subject[s][relation] for s in candidates]
        )
        if pair is None:
            skipped.setdefault(reason, []).append(record.id)
        else:
            pairs.append(pair)
    if not pairs:
        counts = ", ".join(f"{len(ids)} {reason}" for reason, ids in skipped.items())
        raise UserError(
            f"no usable clean/corrupted pairs for {match!r} ({counts}); add authors whose names have the same token length"
        )
    return PairSet(pairs, source=f"entity:{match}", skipped=skipped)


def _partner(
    tokenizer: PreTrainedTokenizerBase,
    record: QARecord,
    clean: tuple[list[int], int],
    candidates: list[QARecord],
) -> tuple[Pair | None, str]:
    """The first candidate whose prompt has the clean prompt's length and a different first object token."""
    clean_ids, gold = clean
    reason = SKIP_NO_PARTNER
    for other in candidates:
        corrupted = cloze(tokenizer, other.question, other.answer, other.fact.object)
        if corrupted is None or len(corrupted[0]) != len(clean_ids):
            continue
        if corrupted[1] == gold:
            reason = SKIP_SAME_TOKEN
            continue
        pair = Pair(
            id=record.id,
            clean_ids=clean_ids,
            corrupted_ids=corrupted[0],
            gold=gold,
            corrupted_gold=corrupted[1],
            clean_text=_decode(tokenizer, clean_ids),
            corrupted_text=_decode(tokenizer, corrupted[0]),
            gold_text=_decode(tokenizer, gold),
            corrupted_gold_text=_decode(tokenizer, corrupted[1]),
            subject=record.fact.subject,
            corrupted_subject=other.fact.subject,
            relation=record.fact.relation,
        )
        return pair, ""
    return None, reason


def csv_pairs(tokenizer: PreTrainedTokenizerBase, path: str | Path) -> PairSet:
    """Pairs from a CSV with columns clean, corrupted, gold, corrupted_gold."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"pairs file {path} does not exist")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"pairs file {path} lacks the column(s) {', '.join(missing)} (needs {', '.join(CSV_COLUMNS)})"
            )
        rows = list(reader)
    pairs, unequal, skipped = [], [], {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        clean = list(tokenizer(row["clean"])["input_ids"])
        corrupted = list(tokenizer(row["corrupted"])["input_ids"])
        if len(clean) != len(corrupted):
            unequal.append(
                f"line {number} ({row['clean']!r}: {len(clean)} tokens, {row['corrupted']!r}: {len(corrupted)})"
            )
            continue
        gold, corrupted_gold = (
            _first_token(tokenizer, row[c], path, number, c) for c in ("gold", "corrupted_gold")
        )
        if gold == corrupted_gold:
            skipped.setdefault(SKIP_SAME_TOKEN, []).append(f"line {number}")
            continue
        pairs.append(
            Pair(
                id=f"line{number}",
                clean_ids=clean,
                corrupted_ids=corrupted,
                gold=gold,
                corrupted_gold=corrupted_gold,
                clean_text=row["clean"],
                corrupted_text=row["corrupted"],
                gold_text=row["gold"],
                corrupted_gold_text=row["corrupted_gold"],
            )
        )
    if unequal:
        more = f" and {len(unequal) - 3} more" if len(unequal) > 3 else ""
        raise UserError(
            f"pairs of unequal token length in {path}: {'; '.join(unequal[:3])}{more}; edit them to tokenize to the same length"
        )
    if not pairs:
        raise UserError(
            f"pairs file {path} holds no usable pairs (every gold equals its corrupted gold, or it is empty)"
        )
    return PairSet(pairs, source=f"csv:{path.name}", skipped=skipped)


def _first_token(
    tokenizer: PreTrainedTokenizerBase, text: str, path: Path, number: int, column: str
) -> int:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise UserError(f"pairs file {path} line {number}: {column} is empty")
    return int(ids[0])


def make_batches(
    pairs: Sequence[Pair], batch_size: int, pad_id: int, device: torch.device | str
) -> list[Batch]:
    """Right-padded batches of `batch_size` pairs, on `device`."""
    if batch_size < 1:
        raise UserError(f"batch size must be at least 1, got {batch_size}")
    batches = []
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start : start + batch_size]
        length = max(len(p.clean_ids) for p in chunk)
        clean = torch.full((len(chunk), length), pad_id, dtype=torch.long)
        corrupted = clean.clone()
        for row, pair in enumerate(chunk):
            clean[row, : len(pair.clean_ids)] = torch.tensor(pair.clean_ids)
            corrupted[row, : len(pair.corrupted_ids)] = torch.tensor(pair.corrupted_ids)
        batches.append(
            Batch(
                clean=clean.to(device),
                corrupted=corrupted.to(device),
                gold=torch.tensor([p.gold for p in chunk], device=device),
                corrupted_gold=torch.tensor([p.corrupted_gold for p in chunk], device=device),
                last=torch.tensor([len(p.clean_ids) - 1 for p in chunk], device=device),
                subject=(clean != corrupted).to(device),
            )
        )
    return batches


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """A padding id (never read: padding sits after every prompt's last token)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0
