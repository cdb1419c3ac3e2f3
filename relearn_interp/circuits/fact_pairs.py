"""Pairs from fact triples: each fact of the entities, corrupted by several same-length subjects.

The clean prompt is the chat prompt of a fact's question followed by the answer up to the object
(`QARecord.answer_prefix`), tokenized exactly as in training; the gold token is the first token of
the object as it continues that answer. A corrupted prompt asks the same relation about another
subject of the data whose prompt has the same token length (so the names have the same token
length); its object's first token is the corrupted gold. Up to `partners` such subjects corrupt
each fact (chosen with the seed). Skipped, and counted: facts whose object's first token equals
every partner's, facts without an equal-length partner, and relations whose object copies the
subject's name (the e-mail relation: its object starts with the author's name, so the circuit
would measure copying, not recall).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

from relearn_interp.circuits.pairs import (
    SKIP_COPIES_SUBJECT,
    SKIP_NO_CLOZE,
    SKIP_NO_PARTNER,
    SKIP_SAME_TOKEN,
    Pair,
    PairSet,
)
from unlearn.data.records import Fact, QARecord
from unlearn.errors import UserError
from unlearn.prompting import has_chat_template, prompt_ids

DEFAULT_PARTNERS = 3
MIN_NAME_PART = 3  # name parts shorter than this ("Al", "de") are too common to count as copied


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


def copies_subject(fact: Fact) -> bool:
    """Whether the object contains a word that starts with a part of the subject's name."""
    parts = [w for w in re.findall(r"[a-z0-9]+", fact.subject.lower()) if len(w) >= MIN_NAME_PART]
    words = re.findall(r"[a-z0-9]+", fact.object.lower())
    return any(word.startswith(part) for part in parts for word in words)


def copy_relations(records: Sequence[QARecord]) -> set[str]:
    """Relations whose object copies the subject's name in at least half of their facts."""
    counts: dict[str, list[int]] = {}
    for record in records:
        if record.fact is not None:
            tally = counts.setdefault(record.fact.relation, [0, 0])
            tally[0] += copies_subject(record.fact)
            tally[1] += 1
    return {relation for relation, (copied, total) in counts.items() if 2 * copied >= total}


def _decode(tokenizer: PreTrainedTokenizerBase, ids: Sequence[int] | int) -> str:
    return tokenizer.decode([ids] if isinstance(ids, int) else list(ids))


def entity_pairs(
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    entities: Sequence[str],
    partners: int = DEFAULT_PARTNERS,
    seed: int = 0,
) -> PairSet:
    """Pairs for every fact of each entity, each fact corrupted by up to `partners` subjects."""
    if partners < 1:
        raise UserError(f"partners per fact must be at least 1, got {partners}")
    by_subject: dict[str, dict[str, QARecord]] = {}
    for record in records:
        if record.fact is not None:
            by_subject.setdefault(record.fact.subject, {}).setdefault(record.fact.relation, record)
    matches = [_match(by_subject, entity) for entity in entities]
    copying = copy_relations(records)
    pairs: list[Pair] = []
    skipped: dict[str, list[str]] = {}
    for match in dict.fromkeys(matches):
        others = sorted(s for s in by_subject if s != match)
        for relation, record in by_subject[match].items():
            if relation in copying:
                skipped.setdefault(SKIP_COPIES_SUBJECT, []).append(record.id)
                continue
            clean = cloze(tokenizer, record.question, record.answer, record.fact.object)
            if clean is None:
                skipped.setdefault(SKIP_NO_CLOZE, []).append(record.id)
                continue
            candidates = [by_subject[s][relation] for s in others if relation in by_subject[s]]
            random.Random(f"{seed}:{record.id}").shuffle(candidates)
            found, reason = _partners(tokenizer, record, clean, candidates, partners)
            if found:
                pairs += found
            else:
                skipped.setdefault(reason, []).append(record.id)
    if not pairs:
        counts = ", ".join(f"{len(ids)} {reason}" for reason, ids in skipped.items())
        raise UserError(
            f"no usable clean/corrupted pairs for {', '.join(matches)} ({counts}); add subjects whose names have the same token length"
        )
    source = f"entity:{matches[0]}" if len(matches) == 1 else f"entities:{len(set(matches))}"
    corruption = (
        f"subject swapped for up to {partners} other subjects of the data with the same relation "
        "and the same prompt length; gold = first object token of each"
    )
    return PairSet(pairs, source=source, skipped=skipped, corruption=corruption)


def _match(by_subject: dict[str, dict[str, QARecord]], entity: str) -> str:
    match = next((s for s in by_subject if s.lower() == entity.strip().lower()), None)
    if match is None:
        known = ", ".join(sorted(by_subject)[:5]) or "none (the data holds no fact triples)"
        raise UserError(f"no facts about {entity!r} in the data; subjects include: {known}")
    return match


def _partners(
    tokenizer: PreTrainedTokenizerBase,
    record: QARecord,
    clean: tuple[list[int], int],
    candidates: list[QARecord],
    limit: int,
) -> tuple[list[Pair], str]:
    """Up to `limit` pairs, one per candidate whose prompt has the clean prompt's length and a
    different first object token; or none and the reason."""
    clean_ids, gold = clean
    reason, found = SKIP_NO_PARTNER, []
    for other in candidates:
        corrupted = cloze(tokenizer, other.question, other.answer, other.fact.object)
        if corrupted is None or len(corrupted[0]) != len(clean_ids):
            continue
        if corrupted[1] == gold:
            reason = SKIP_SAME_TOKEN
            continue
        found.append(
            Pair(
                id=f"{record.id}~{other.fact.subject}",
                clean_ids=clean_ids,
                corrupted_ids=corrupted[0],
                gold=gold,
                corrupted_gold=corrupted[1],
                fact=record.id,
                clean_text=_decode(tokenizer, clean_ids),
                corrupted_text=_decode(tokenizer, corrupted[0]),
                gold_text=_decode(tokenizer, gold),
                corrupted_gold_text=_decode(tokenizer, corrupted[1]),
                subject=record.fact.subject,
                corrupted_subject=other.fact.subject,
                relation=record.fact.relation,
            )
        )
        if len(found) == limit:
            break
    return found, reason
