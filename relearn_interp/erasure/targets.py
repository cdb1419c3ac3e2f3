"""What the erasure probes read: each fact's informative gold token, its decoys and its subject.

The gold token is the fact object's first *informative* token: the first token at which the
object's tokens differ from every other object of the same relation in the data. The first object
token is often shared ("The| Drowned Tide" and "The| Quiet Orchard", "+44 ..." phone numbers), so
it says nothing about the fact; the first token that tells the objects apart does. Records without a
fact (or whose answer does not contain the object) fall back to the answer's first token.

Decoys are the tokens that the relation's other objects have at the same index: plausible answers
of the right type that are wrong for this subject. They are the lens probe's chance control (a
digit or a common word ranks high for any subject). The subject positions are the prompt tokens of
the fact's subject, for the subject-position patching variant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.prompting import answer_ids, has_chat_template, prompt_ids


@dataclass(frozen=True)
class FactTarget:
    """One record as the probes see it; `input_ids`' last position predicts the gold token."""

    id: str
    record: QARecord
    input_ids: list[int]  # the prompt plus the gold answer up to (not including) the gold token
    gold_id: int
    gold_index: int  # index of the gold token in the answer's ids
    informative: bool  # False: the answer's first token (no fact, or no distinguishing token)
    decoy_ids: list[int]
    subject_positions: list[int]  # empty when the subject's tokens are not found in the prompt

    @property
    def slot(self) -> int:
        """The position whose next-token prediction is the gold token."""
        return len(self.input_ids) - 1


def object_token_span(
    tokenizer: PreTrainedTokenizerBase, record: QARecord
) -> tuple[list[int], int, int] | None:
    """(the answer's ids, first and one-past-last index of the object's tokens), if it has one."""
    if record.fact is None or record.fact.object not in record.answer:
        return None
    text = record.answer if has_chat_template(tokenizer) else " " + record.answer
    start = text.index(record.fact.object)
    stop = start + len(record.fact.object)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    inside = [i for i, (s, e) in enumerate(encoded["offset_mapping"]) if e > start and s < stop]
    if not inside:
        return None
    return list(encoded["input_ids"]), inside[0], inside[-1] + 1


def _object_tokens(
    tokenizer: PreTrainedTokenizerBase, records: list[QARecord]
) -> dict[str, dict[str, list[int]]]:
    """relation -> {object: its tokens as they appear in its own answer}."""
    found: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for record in records:
        span = object_token_span(tokenizer, record)
        if span is not None:
            ids, first, stop = span
            found[record.fact.relation][record.fact.object] = ids[first:stop]
    return found


def informative_offset(tokens: list[int], others: list[list[int]]) -> int | None:
    """The first index at which `tokens` differs from every other object's tokens (None if never)."""
    for index in range(len(tokens)):
        prefix = tokens[: index + 1]
        if all(other[: index + 1] != prefix for other in others):
            return index
    return None


def subject_positions(
    tokenizer: PreTrainedTokenizerBase, record: QARecord, prompt: list[int]
) -> list[int]:
    """Positions in `prompt` of the subject's tokens as they appear in the question."""
    if record.fact is None or record.fact.subject not in record.question:
        return []
    start = record.question.index(record.fact.subject)
    stop = start + len(record.fact.subject)
    encoded = tokenizer(record.question, add_special_tokens=False, return_offsets_mapping=True)
    tokens = [
        token
        for token, (s, e) in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
        if e > start and s < stop
    ]
    for begin in range(len(prompt) - len(tokens), -1, -1):
        if tokens and prompt[begin : begin + len(tokens)] == tokens:
            return list(range(begin, begin + len(tokens)))
    return []


def build_targets(
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    context: list[QARecord] | None = None,
) -> list[FactTarget]:
    """Targets of `records`; `context` (default: the records) supplies each relation's other objects."""
    if not records:
        raise UserError("the erasure probes need at least one forget record; the data holds none")
    objects = _object_tokens(tokenizer, context if context is not None else records)
    targets = []
    for record in records:
        prompt = prompt_ids(tokenizer, record.question)
        answer = answer_ids(tokenizer, record.answer, eos=False)
        span = object_token_span(tokenizer, record)
        index, decoys, informative = 0, [], False
        if span is not None:
            ids, first, stop = span
            tokens = ids[first:stop]
            others = [
                other
                for obj, other in objects.get(record.fact.relation, {}).items()
                if obj != record.fact.object
            ]
            offset = informative_offset(tokens, others)
            if offset is not None:
                index, informative = first + offset, True
                decoys = sorted(
                    {o[offset] for o in others if len(o) > offset and o[offset] != tokens[offset]}
                )
            else:
                index = first
        if index >= len(answer):
            raise UserError(f"record {record.id}: its answer has no token at index {index}")
        targets.append(
            FactTarget(
                id=record.id,
                record=record,
                input_ids=prompt + answer[:index],
                gold_id=answer[index],
                gold_index=index,
                informative=informative,
                decoy_ids=decoys,
                subject_positions=subject_positions(tokenizer, record, prompt),
            )
        )
    return targets
