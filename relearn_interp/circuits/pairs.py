"""Clean/corrupted prompt pairs of equal token length: the types, batches, held-out halves, CSV pairs.

A pair's metric is read at its target positions: the last `len(targets)` positions of the clean
prompt predict `targets` (teacher-forced: the prompt ends with all targets but the last). Pairs
from fact triples have one target, the gold token, and know the corrupted prompt's gold token;
pairs from name swaps (entities without triples) have several targets and no corrupted gold.
Builders live in `fact_pairs` (triples) and `name_pairs` (records that name the entity).

From a CSV (columns clean, corrupted, gold, corrupted_gold): prompts are used verbatim
(tokenized with the tokenizer's special tokens); gold texts are continuations, so include the
leading space where the token has one. Pairs of unequal token length are refused, naming them.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from jaxtyping import Bool, Int
from torch import Tensor
from transformers import PreTrainedTokenizerBase

from unlearn.errors import UserError
from unlearn.io import read_text

CSV_COLUMNS = ("clean", "corrupted", "gold", "corrupted_gold")
SKIP_SAME_TOKEN = "same_first_token"
SKIP_NO_PARTNER = "no_equal_length_subject"
SKIP_NO_CLOZE = "object_not_in_answer"
SKIP_COPIES_SUBJECT = "object_copies_subject"
NO_GOLD = -1  # corrupted_gold of a batch row whose pair has none


@dataclass(frozen=True)
class Pair:
    """One clean/corrupted pair; `fact` names the clean record (its partners share it)."""

    id: str
    clean_ids: list[int]
    corrupted_ids: list[int]
    gold: int
    corrupted_gold: int | None
    target_ids: tuple[int, ...] = ()
    fact: str = ""
    clean_text: str = ""
    corrupted_text: str = ""
    gold_text: str = ""
    corrupted_gold_text: str = ""
    subject: str = ""
    corrupted_subject: str = ""
    relation: str = ""

    @property
    def targets(self) -> list[int]:
        """Token ids the last positions predict (just the gold token for a cloze pair)."""
        return list(self.target_ids) or [self.gold]

    @property
    def target_positions(self) -> list[int]:
        n = len(self.clean_ids)
        return list(range(n - len(self.targets), n))

    @property
    def subject_positions(self) -> list[int]:
        return [
            i
            for i, (a, b) in enumerate(zip(self.clean_ids, self.corrupted_ids, strict=True))
            if a != b
        ]


@dataclass
class PairSet:
    """The pairs used, how they were corrupted, the ids skipped per reason, and notes the command
    prints (e.g. that partners were generated because the data named too few)."""

    pairs: list[Pair]
    source: str
    skipped: dict[str, list[str]] = field(default_factory=dict)
    corruption: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "corruption": self.corruption,
            "n_pairs": len(self.pairs),
            "n_facts": len({p.fact or p.id for p in self.pairs}),
            "skipped": {reason: len(ids) for reason, ids in self.skipped.items()},
            "skipped_ids": self.skipped,
            "notes": self.notes,
            "pairs": [
                {
                    **asdict(p),
                    "target_ids": p.targets,
                    "subject_positions": p.subject_positions,
                }
                for p in self.pairs
            ],
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
    targets: Int[Tensor, "batch target"]
    target_ids: Int[Tensor, "batch target"]
    target_mask: Bool[Tensor, "batch target"]

    @property
    def size(self) -> int:
        return int(self.clean.shape[0])

    @property
    def n_positions(self) -> int:
        return int(self.clean.shape[1])


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
        width = max(len(p.targets) for p in chunk)
        clean = torch.full((len(chunk), length), pad_id, dtype=torch.long)
        corrupted = clean.clone()
        targets = torch.zeros((len(chunk), width), dtype=torch.long)
        target_ids = torch.zeros_like(targets)
        target_mask = torch.zeros((len(chunk), width), dtype=torch.bool)
        for row, pair in enumerate(chunk):
            clean[row, : len(pair.clean_ids)] = torch.tensor(pair.clean_ids)
            corrupted[row, : len(pair.corrupted_ids)] = torch.tensor(pair.corrupted_ids)
            k = len(pair.targets)
            targets[row] = pair.target_positions[-1]  # padding repeats the last target
            targets[row, :k] = torch.tensor(pair.target_positions)
            target_ids[row, :k] = torch.tensor(pair.targets)
            target_mask[row, :k] = True
        gold = [p.corrupted_gold if p.corrupted_gold is not None else NO_GOLD for p in chunk]
        batches.append(
            Batch(
                clean=clean.to(device),
                corrupted=corrupted.to(device),
                gold=torch.tensor([p.gold for p in chunk], device=device),
                corrupted_gold=torch.tensor(gold, device=device),
                last=torch.tensor([len(p.clean_ids) - 1 for p in chunk], device=device),
                subject=(clean != corrupted).to(device),
                targets=targets.to(device),
                target_ids=target_ids.to(device),
                target_mask=target_mask.to(device),
            )
        )
    return batches


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """A padding id (never read: padding sits after every prompt's last token)."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


def _facts(pairs: Sequence[Pair]) -> dict[str, list[Pair]]:
    grouped: dict[str, list[Pair]] = {}
    for pair in pairs:
        grouped.setdefault(pair.fact or pair.id, []).append(pair)
    return grouped


def split_heldout(pairs: Sequence[Pair], seed: int = 0) -> tuple[list[Pair], list[Pair]]:
    """(selection, held-out) halves, split by fact: every partner of a fact goes to the same half.

    Facts are ordered by relation (shuffled within it by `seed`) and dealt alternately, so each
    relation with two or more facts appears in both halves.
    """
    grouped = _facts(pairs)
    if len(grouped) < 2:
        raise UserError(
            f"held-out faithfulness needs pairs from at least two facts (clean prompts); got {len(grouped)}"
        )
    rng = random.Random(f"heldout:{seed}")
    keys = {fact: (group[0].relation, rng.random()) for fact, group in sorted(grouped.items())}
    halves: tuple[list[Pair], list[Pair]] = ([], [])
    for index, fact in enumerate(sorted(grouped, key=keys.__getitem__)):
        halves[index % 2].extend(grouped[fact])
    return halves


def limit_pairs(pairs: PairSet, max_pairs: int | None, seed: int = 0) -> PairSet:
    """At most `max_pairs` pairs, keeping whole facts drawn in a seeded order."""
    if max_pairs is None or len(pairs.pairs) <= max_pairs:
        return pairs
    grouped = _facts(pairs.pairs)
    order = sorted(grouped)
    random.Random(f"limit:{seed}").shuffle(order)
    kept: list[Pair] = []
    for fact in order:
        if len(kept) + len(grouped[fact]) > max_pairs:
            continue
        kept.extend(grouped[fact])
    if not kept:
        raise UserError(f"--max-pairs {max_pairs} is smaller than one fact's pairs; raise it")
    dropped = sorted({p.fact or p.id for p in pairs.pairs} - {p.fact or p.id for p in kept})
    skipped = {**pairs.skipped, "over_max_pairs": dropped}
    return PairSet(kept, pairs.source, skipped, pairs.corruption, pairs.notes)


def csv_pairs(tokenizer: PreTrainedTokenizerBase, path: str | Path) -> PairSet:
    """Pairs from a CSV with columns clean, corrupted, gold, corrupted_gold."""
    path = Path(path)
    rows = _csv_rows(path)
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
                fact=row["clean"],
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
    return PairSet(pairs, source=f"csv:{path.name}", skipped=skipped, corruption="as in the CSV")


def _csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a UTF-8 pairs CSV, each checked to have a value in every column."""
    text = read_text(path, what="pairs file")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(
                f"pairs file {path} lacks the column(s) {', '.join(missing)} (needs {', '.join(CSV_COLUMNS)})"
            )
        rows = list(reader)
    except csv.Error as err:
        raise UserError(f"pairs file {path} is not valid CSV: {err}") from None
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        short = [c for c in CSV_COLUMNS if row.get(c) is None]
        if short:
            raise UserError(
                f"pairs file {path} line {number} has no value for {', '.join(short)}; every "
                f"row needs {', '.join(CSV_COLUMNS)}"
            )
    return rows


def _first_token(
    tokenizer: PreTrainedTokenizerBase, text: str, path: Path, number: int, column: str
) -> int:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise UserError(f"pairs file {path} line {number}: {column} is empty")
    return int(ids[0])
