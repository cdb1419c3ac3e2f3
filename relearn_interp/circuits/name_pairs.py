"""Pairs for an entity without fact triples (e.g. a TOFU author): swap its name for another.

The clean side of a record whose question names the entity is its training tokens (chat prompt,
then the answer) up to the first `answer_tokens` answer tokens after the answer's last mention of
the name (after the prompt if the answer does not name it): those tokens are the targets, and the
metric is their teacher-forced log-probability (`answer_logprob`) or the KL to the clean run,
neither of which needs the other author's answer. The corrupted side replaces every mention of
the name, in the question and the answer, by a partner name whose swap keeps the token length
and leaves the targets' tokens unchanged. Partners are other names from the same data (runs of
two or more capitalised words that occur in at least two questions: TOFU questions name their
authors; a heuristic, so check `pairs.json`), or the names given with `--partners`. When no
whole name of the data has the entity's token length (a long name such as TOFU's "Basil Mahfouz
Al-Kuwaiti"), names recombined from their words are tried: a first name of one, surnames of others.
When that fails too (a small file naming one or two authors), fictitious names of the entity's
token length are drawn from the benchmark's name generator, and the pairs' notes say so.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

from relearn_interp.circuits.pairs import SKIP_NO_PARTNER, Pair, PairSet
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.prompting import answer_ids, has_chat_template, prompt_ids

DEFAULT_ANSWER_TOKENS = 8
RECOMBINED_TRIES = 2000
GENERATED_TRIES = 2000  # seeded draws of fictitious names, before keeping those of the right length
MIN_QUESTIONS = 2
SKIP_NOTHING_AFTER_NAME = "no_answer_after_name"
_WORD = r"[A-Z][\w'’.-]*"
NAME_PATTERN = re.compile(rf"\b{_WORD}(?:\s+{_WORD})+")
POSSESSIVE = re.compile(r"['’]s$")
NAME_WORD = re.compile(r"[A-Z][a-z]+(?:-[A-Z]?[a-z]+)*")


def names_in_questions(records: Sequence[QARecord], entity: str) -> list[str]:
    """Runs of capitalised words found in at least MIN_QUESTIONS questions, most frequent first."""
    counts: Counter[str] = Counter()
    for record in records:
        found = {POSSESSIVE.sub("", name) for name in NAME_PATTERN.findall(record.question)}
        counts.update(found)
    own = entity.lower()
    return [
        name
        for name, count in counts.most_common()
        if count >= MIN_QUESTIONS and own not in name.lower() and name.lower() not in own
    ]


def recombined_names(
    tokenizer: PreTrainedTokenizerBase, pool: Sequence[str], entity: str, seed: int = 0
) -> list[str]:
    """Names built from the pool's words (one name's first word, then 1–3 surnames of others),
    as many tokens long as the entity and reusing none of its words: up to RECOMBINED_TRIES
    seeded draws, those with the entity's number of words first."""
    own = {word.lower() for word in entity.split()}

    def usable(word: str) -> bool:  # a plain name word: no possessive, no title punctuation
        return NAME_WORD.fullmatch(word) is not None and word.lower() not in own

    firsts = sorted({n.split()[0] for n in pool if usable(n.split()[0])})
    surnames = sorted({w for n in pool for w in n.split()[1:] if usable(w)})
    if not firsts or not surnames:
        return []
    rng = random.Random(f"{seed}:{entity}")
    drawn = (
        " ".join([rng.choice(firsts), *rng.sample(surnames, rng.randint(1, min(3, len(surnames))))])
        for _ in range(RECOMBINED_TRIES)
    )
    return _same_length(tokenizer, list(dict.fromkeys(drawn)), entity)


def generated_names(tokenizer: PreTrainedTokenizerBase, entity: str, seed: int = 0) -> list[str]:
    """Fictitious names from the benchmark's generator (`unlearn.data.names`) with as many words
    as the entity and as many tokens: up to GENERATED_TRIES seeded draws."""
    from unlearn.data.names import person_name, word

    rng = random.Random(f"generated:{seed}:{entity}")
    extra_words = max(0, len(entity.split()) - 2)
    drawn = (
        " ".join(
            [
                person_name(rng, rng.randint(1, 4)),
                *(word(rng, rng.randint(1, 3)) for _ in range(extra_words)),
            ]
        )
        for _ in range(GENERATED_TRIES)
    )
    own = entity.strip().lower()
    return _same_length(tokenizer, [n for n in dict.fromkeys(drawn) if n.lower() != own], entity)


def _same_length(tokenizer: PreTrainedTokenizerBase, names: list[str], entity: str) -> list[str]:
    """The names that tokenize (after a space) to as many tokens as the entity, like-shaped first."""
    want = len(tokenizer(" " + entity, add_special_tokens=False)["input_ids"])
    lengths = tokenizer([" " + n for n in names], add_special_tokens=False)["input_ids"]
    fitting = [n for n, ids in zip(names, lengths, strict=True) if len(ids) == want]
    words = len(entity.split())
    return sorted(fitting, key=lambda n: abs(len(n.split()) - words))


def _swap(text: str, entity: str, partner: str) -> str:
    return re.sub(re.escape(entity), partner, text, flags=re.IGNORECASE)


def _cut(tokenizer: PreTrainedTokenizerBase, answer: str, entity: str) -> int:
    """Index of the first answer token after the answer's last mention of the entity (0 if none)."""
    text = answer if has_chat_template(tokenizer) else " " + answer  # as `answer_ids` reads it
    ends = [m.end() for m in re.finditer(re.escape(entity), text, flags=re.IGNORECASE)]
    if not ends:
        return 0
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    return next((i for i, (start, _) in enumerate(offsets) if start >= ends[-1]), len(offsets))


def name_swap_pairs(
    tokenizer: PreTrainedTokenizerBase,
    records: Sequence[QARecord],
    entity: str,
    partners: int,
    given: Sequence[str] = (),
    answer_tokens: int = DEFAULT_ANSWER_TOKENS,
    seed: int = 0,
) -> PairSet:
    """Pairs for every record whose question names `entity`, each with up to `partners` swaps."""
    if answer_tokens < 1:
        raise UserError(f"answer tokens must be at least 1, got {answer_tokens}")
    naming = [r for r in records if entity.strip().lower() in r.question.lower()]
    if not naming:
        raise UserError(
            f"no record of the data names {entity!r} in its question (and it has no fact triples)"
        )
    pool = list(given) or names_in_questions(records, entity)
    pairs: list[Pair] = []
    skipped: dict[str, list[str]] = {}
    recombined: list[str] | None = None  # built once, when some record needs them
    generated: list[str] | None = None  # likewise, when the data's names do not fit either
    n_generated = 0
    for record in naming:
        clean = _clean_side(tokenizer, record, entity, answer_tokens)
        if clean is None:
            skipped.setdefault(SKIP_NOTHING_AFTER_NAME, []).append(record.id)
            continue
        candidates = list(pool)
        random.Random(f"{seed}:{record.id}").shuffle(candidates)
        found = _partner_pairs(tokenizer, record, entity, candidates, clean, partners)
        if not found and not given:
            if recombined is None:
                recombined = recombined_names(tokenizer, pool, entity, seed)
            found = _partner_pairs(tokenizer, record, entity, recombined, clean, partners)
        if not found and not given:
            if generated is None:
                generated = generated_names(tokenizer, entity, seed)
            found = _partner_pairs(tokenizer, record, entity, generated, clean, partners)
            n_generated += len(found)
        if found:
            pairs += found
        else:
            skipped.setdefault(SKIP_NO_PARTNER, []).append(record.id)
    if not pairs:
        counts = ", ".join(f"{len(ids)} {reason}" for reason, ids in skipped.items())
        raise UserError(
            f"no usable name-swap pairs for {entity!r} ({counts}); give names of the same token length with --partners"
        )
    origin = "--partners" if given else "other names in the data's questions"
    if recombined:
        origin += ", or names recombined from their words where no whole name fits"
    notes = []
    if n_generated:
        origin += ", or generated fictitious names where none of those fits"
        notes.append(
            f"the data names too few partners of {entity!r}'s token length: {n_generated} of "
            f"{len(pairs)} pairs swap in generated fictitious names (see pairs.json)"
        )
    corruption = (
        f"name swapped for up to {partners} names of equal token length ({origin}); targets: the "
        f"first {answer_tokens} answer tokens after the answer's last mention of the name"
    )
    return PairSet(
        pairs, source=f"names:{entity}", skipped=skipped, corruption=corruption, notes=notes
    )


def _partner_pairs(
    tokenizer: PreTrainedTokenizerBase,
    record: QARecord,
    entity: str,
    candidates: Sequence[str],
    clean: tuple[list[int], list[int]],
    partners: int,
) -> list[Pair]:
    """Up to `partners` pairs from the first candidates whose swap keeps length and targets."""
    found = []
    for partner in candidates:
        pair = _pair(tokenizer, record, entity, partner, clean)
        if pair is not None:
            found.append(pair)
        if len(found) == partners:
            break
    return found


def _clean_side(
    tokenizer: PreTrainedTokenizerBase, record: QARecord, entity: str, answer_tokens: int
) -> tuple[list[int], list[int]] | None:
    """(input ids, target ids) of the clean side, or None when no answer token follows the name."""
    prompt = prompt_ids(tokenizer, record.question)
    answer = answer_ids(tokenizer, record.answer, eos=False)
    cut = _cut(tokenizer, record.answer, entity)
    targets = answer[cut : cut + answer_tokens]
    if not targets:
        return None
    return prompt + answer[: cut + len(targets) - 1], targets


def _pair(
    tokenizer: PreTrainedTokenizerBase,
    record: QARecord,
    entity: str,
    partner: str,
    clean: tuple[list[int], list[int]],
) -> Pair | None:
    """The pair that swaps in `partner`, if the swap keeps the length and the target tokens."""
    clean_ids, targets = clean
    question, answer = (
        _swap(record.question, entity, partner),
        _swap(record.answer, entity, partner),
    )
    corrupted_full = prompt_ids(tokenizer, question) + answer_ids(tokenizer, answer, eos=False)
    corrupted_ids = corrupted_full[: len(clean_ids)]
    forced = len(targets) - 1  # teacher-forced target tokens at the end of the prompt
    if len(corrupted_ids) != len(clean_ids) or corrupted_full[len(clean_ids) - forced :][
        : len(targets)
    ] != list(targets):
        return None
    return Pair(
        id=f"{record.id}~{partner}",
        clean_ids=clean_ids,
        corrupted_ids=corrupted_ids,
        gold=targets[0],
        corrupted_gold=None,
        target_ids=tuple(targets),
        fact=record.id,
        clean_text=tokenizer.decode(clean_ids),
        corrupted_text=tokenizer.decode(corrupted_ids),
        gold_text=tokenizer.decode(targets),
        subject=entity,
        corrupted_subject=partner,
        relation="",
    )
