"""Analysis prompts from QA records: the chat prompt, the teacher-forced gold answer, the knowledge slot.

Both the logit lens and the distribution shift read the model at every answer position while the
gold answer is fed in (teacher forcing), exactly as `unlearn.prompting` encodes it for training.
The *knowledge slot* is where the fact's object starts inside the answer ("... was born in|Paris"):
its first token is the gold token the analyses track; records without a fact (or whose answer does
not contain the object) fall back to the answer's first token at the answer start.

Related concepts, the tokens ReLearn is trained to say instead of the fact, are the first tokens
of the fact's coarse attributes (`unlearn.data.coarse`: region, country, decade, field, genre
family, prize kind, ...) and of same-type answers (the objects of the same relation for the other
subjects in the data, as they start inside their own answers), minus the gold token and minus the
first token of any of the subject's other objects: those are facts being forgotten too, and mass on
them would measure leakage of forgotten facts, not kept concepts.
"""

from __future__ import annotations

import inspect
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from jaxtyping import Int
from torch import Tensor
from transformer_lens.model_bridge import TransformerBridge
from transformers import PreTrainedTokenizerBase

from relearn_interp.load import check_context
from unlearn.data.coarse import coarse_attributes
from unlearn.data.records import Fact, QARecord
from unlearn.errors import UserError
from unlearn.prompting import answer_ids, has_chat_template, prompt_ids


@dataclass(frozen=True)
class AnalysisPrompt:
    """One record as token ids: the prompt, the gold answer (with EOS) and where the knowledge sits."""

    id: str
    question: str
    answer: str
    prompt_ids: list[int]
    answer_ids: list[int]
    target_index: int  # index into answer_ids of the tracked gold token
    # "object": the fact's first object token; "first": the answer's first token
    target_kind: str
    related_ids: list[int]

    @property
    def input_ids(self) -> list[int]:
        """Prompt plus gold answer minus its last token: every answer token is predicted once."""
        return self.prompt_ids + self.answer_ids[:-1]

    @property
    def answer_start(self) -> int:
        """Position (in input_ids) whose next-token prediction is the answer's first token."""
        return len(self.prompt_ids) - 1

    @property
    def target_id(self) -> int:
        return self.answer_ids[self.target_index]


def _answer_text(tokenizer: PreTrainedTokenizerBase, answer: str) -> str:
    """The answer text exactly as `answer_ids` tokenizes it."""
    return answer if has_chat_template(tokenizer) else " " + answer


def object_token_index(tokenizer: PreTrainedTokenizerBase, record: QARecord) -> int | None:
    """Index (into the answer's ids) of the token holding the first character of the fact's object."""
    if record.fact is None or record.fact.object not in record.answer:
        return None
    text = _answer_text(tokenizer, record.answer)
    start = text.index(record.fact.object)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    for index, (_, end) in enumerate(encoded["offset_mapping"]):
        if end > start:
            return index
    return None


def object_first_tokens(
    tokenizer: PreTrainedTokenizerBase, records: list[QARecord]
) -> dict[tuple[str, str], dict[str, int]]:
    """(relation, subject) -> {object: id of its first token as it appears in its own answer}."""
    found: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for record in records:
        index = object_token_index(tokenizer, record)
        if index is not None:
            ids = answer_ids(tokenizer, record.answer, eos=False)
            found[(record.fact.relation, record.fact.subject)][record.fact.object] = ids[index]
    return found


def coarse_first_tokens(tokenizer: PreTrainedTokenizerBase, fact: Fact) -> set[int]:
    """First tokens of the fact's coarse attributes as words inside an answer (" Northern", ...);
    the article-prefixed forms (`a_mood`) are skipped, their first token is only " a"/" an"."""
    attributes = coarse_attributes(fact.object_type, fact.object) or {}
    return {
        tokenizer(" " + value, add_special_tokens=False)["input_ids"][0]
        for key, value in attributes.items()
        if not key.startswith("a_") and value
    }


def related_token_ids(
    tokenizer: PreTrainedTokenizerBase,
    objects: dict[tuple[str, str], dict[str, int]],
    fact: Fact,
) -> list[int]:
    """The fact's related-concept tokens: coarse attributes and same-relation answers of other
    subjects, minus the gold token and every first token of the subject's other objects."""
    same_type = {
        tid
        for (relation, subject), table in objects.items()
        if relation == fact.relation and subject != fact.subject
        for tid in table.values()
    }
    own = {
        tid
        for (_, subject), table in objects.items()
        if subject == fact.subject
        for tid in table.values()
    }  # the gold token included
    gold = objects.get((fact.relation, fact.subject), {}).get(fact.object)
    concepts = coarse_first_tokens(tokenizer, fact) | same_type
    return sorted(concepts - own - {gold})


def build_prompts(
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    context: list[QARecord] | None = None,
) -> list[AnalysisPrompt]:
    """Analysis prompts for `records`; `context` (default: the records) supplies the entities' other
    facts and the other subjects' same-relation answers."""
    if not records:
        raise UserError(
            "the data holds no records; give a data file or split with at least one QA record"
        )
    objects = object_first_tokens(tokenizer, context if context is not None else records)
    prompts = []
    for record in records:
        answer = answer_ids(tokenizer, record.answer)
        index = object_token_index(tokenizer, record)
        related = related_token_ids(tokenizer, objects, record.fact) if record.fact else []
        prompts.append(
            AnalysisPrompt(
                id=record.id,
                question=record.question,
                answer=record.answer,
                prompt_ids=prompt_ids(tokenizer, record.question),
                answer_ids=answer,
                target_index=0 if index is None else index,
                target_kind="first" if index is None else "object",
                related_ids=related,
            )
        )
    return prompts


def require_fit(model: TransformerBridge, prompts: list[AnalysisPrompt]) -> None:
    """Refuse a prompt that, with its gold answer, is longer than the model's context."""
    for prompt in prompts:
        check_context(
            model, len(prompt.input_ids), what=f"record {prompt.id} (prompt plus gold answer)"
        )


def sample_records(
    records: list[QARecord], max_prompts: int | None, seed: int = 0
) -> list[QARecord]:
    """At most `max_prompts` records, a seeded sample kept in data order (all when None)."""
    if max_prompts is not None and max_prompts < 1:
        raise UserError(f"--max-prompts must be at least 1, got {max_prompts}")
    if max_prompts is None or max_prompts >= len(records):
        return list(records)
    keep = sorted(random.Random(seed).sample(range(len(records)), max_prompts))
    return [records[i] for i in keep]


@dataclass
class PromptBatch:
    """Right-padded prompts and the flat list of their answer positions (one row per predicted token).

    Right padding needs no attention mask: under causal attention, pads after a sequence never
    influence its real positions.
    """

    prompts: list[AnalysisPrompt]
    tokens: Int[Tensor, "batch pos"]
    rows: Int[Tensor, " n"]  # batch index of each answer position
    positions: Int[Tensor, " n"]  # its position in the sequence
    targets: Int[Tensor, " n"]  # the gold answer token predicted there
    starts: list[int]  # index of each prompt's first row in the flat list
    keep: Int[Tensor, " u"]  # the distinct answer positions, sorted (passed as logits_to_keep)
    keep_index: Int[Tensor, " n"]  # each row's column among `keep`

    def span(self, index: int) -> slice:
        """The flat rows of prompt `index` (one per gold answer token)."""
        return slice(self.starts[index], self.starts[index] + len(self.prompts[index].answer_ids))


def make_batch(
    prompts: list[AnalysisPrompt], pad_id: int, device: str | torch.device
) -> PromptBatch:
    length = max(len(p.input_ids) for p in prompts)
    tokens = torch.full((len(prompts), length), pad_id, dtype=torch.long)
    rows, positions, targets, starts = [], [], [], []
    for index, prompt in enumerate(prompts):
        tokens[index, : len(prompt.input_ids)] = torch.tensor(prompt.input_ids)
        starts.append(len(rows))
        n_answer = len(prompt.answer_ids)
        rows += [index] * n_answer
        positions += range(prompt.answer_start, prompt.answer_start + n_answer)
        targets += prompt.answer_ids
    positions_tensor = _long(positions, device)
    keep = torch.unique(positions_tensor)
    return PromptBatch(
        prompts,
        tokens.to(device),
        _long(rows, device),
        positions_tensor,
        _long(targets, device),
        starts,
        keep,
        torch.searchsorted(keep, positions_tensor),
    )


def _long(values: list[int], device: str | torch.device) -> Int[Tensor, " n"]:
    return torch.tensor(values, dtype=torch.long, device=device)


def iter_batches(
    prompts: list[AnalysisPrompt], batch_size: int, pad_id: int, device: str | torch.device
) -> Iterator[tuple[list[int], PromptBatch]]:
    """Batches of similar length (longest first, less padding), with each prompt's original index."""
    if batch_size < 1:
        raise UserError(f"batch size must be at least 1, got {batch_size}")
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i].input_ids))
    for begin in range(0, len(order), batch_size):
        indices = order[begin : begin + batch_size]
        yield indices, make_batch([prompts[i] for i in indices], pad_id, device)


def answer_logits_kwargs(
    model: TransformerBridge, batch: PromptBatch
) -> tuple[dict, Int[Tensor, " n"]]:
    """Forward kwargs that unembed only the answer positions, and each row's column in the logits.

    Hugging Face causal LMs take `logits_to_keep`; skipping the unembedding of prompt positions
    saves a large share of the forward pass when the vocabulary is large. Models without it
    return logits at every position, indexed by position instead.
    """
    if "logits_to_keep" in inspect.signature(model.original_model.forward).parameters:
        return {"logits_to_keep": batch.keep}, batch.keep_index
    return {}, batch.positions
