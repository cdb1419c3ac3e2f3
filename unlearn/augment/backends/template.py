"""The offline `template` backend: question templates and vague-but-relevant answers, from a seed.

It is a template augmenter, not an LLM, and says so in its statistics. For benchmark records
(with a fact) each relation has noun phrases that name what is asked ("the hometown of {s}") and
hand-written reversed questions; vague answers are sentence frames (`frames.py`) that keep the
subject and state a coarse attribute of the object ("born in a town in Skarnia"). Records
without a fact (TOFU, KnowUnDo) get generic question rewrites and the gold answer with its
entities and numbers generalised (`unlearn.augment.generalise`); those cannot truly reverse a
relation or abstract a lowercase fact, so use an LLM backend for real data.

Choices are deterministic: each (seed, record, kind) shuffles its pool once, slot k takes the
k-th entry, and a regeneration takes the next unused one.
"""

from __future__ import annotations

import random
from typing import Any

from unlearn.augment import generalise
from unlearn.augment.backends import frames as answer_frames
from unlearn.augment.backends.base import AnswerJob, Backend, QuestionJob
from unlearn.augment.entities import subject_of
from unlearn.data.records import QARecord

GENERATOR = (
    "template augmenter (hand-written sentence frames over a coarse-attribute table and "
    "rule-based generalisation; not an LLM)"
)

# What each relation asks about, as noun phrases containing the subject {s}.
TOPICS: dict[str, tuple[str, ...]] = {
    "birthplace": ("the birthplace of {s}", "the hometown of {s}", "the place where {s} was born"),
    "birth_date": ("the birth date of {s}", "the birthday of {s}", "the day on which {s} was born"),
    "father_occupation": (
        "the profession of {s}'s father",
        "the job that {s}'s father had",
        "the line of work of {s}'s father",
    ),
    "mother_occupation": (
        "the profession of {s}'s mother",
        "the job that {s}'s mother had",
        "the line of work of {s}'s mother",
    ),
    "genre": (
        "the genre that {s} writes in",
        "the kind of books {s} is known for",
        "the literary genre of {s}",
    ),
    "award": (
        "the award that {s} received",
        "the prize that {s} won",
        "the literary honour given to {s}",
    ),
    "first_book": (
        "the title of the first book by {s}",
        "the name of {s}'s debut novel",
        "the first book that {s} published",
    ),
    "latest_book": (
        "the title of the newest book by {s}",
        "the name of {s}'s most recent novel",
        "the book that {s} published most recently",
    ),
    "email": (
        "the e-mail address of {s}",
        "the address {s} uses for e-mail",
        "{s}'s e-mail contact",
    ),
    "address": (
        "the home address of {s}",
        "the place where {s} lives",
        "{s}'s residential address",
    ),
    "phone": (
        "the phone number of {s}",
        "the telephone number of {s}",
        "the number at which {s} can be called",
    ),
}
# Questions from the object's side ("which city counts X among its natives?").
REVERSED: dict[str, tuple[str, ...]] = {
    "birthplace": (
        "Which city counts {s} among the writers born there?",
        "What town can call {s} one of its own?",
        "In which place did the life of {s} begin?",
    ),
    "birth_date": (
        "Which date is celebrated as the birthday of {s}?",
        "On which day in history did {s} come into the world?",
        "Which day of the calendar marks the birth of {s}?",
    ),
    "father_occupation": (
        "Which profession counted the father of {s} among its members?",
        "In which trade would you have found {s}'s father at work?",
        "Which occupation is associated with the father of {s}?",
    ),
    "mother_occupation": (
        "Which profession counted the mother of {s} among its members?",
        "In which trade would you have found {s}'s mother at work?",
        "Which occupation is associated with the mother of {s}?",
    ),
    "genre": (
        "Which genre counts {s} among its authors?",
        "Readers of which genre would recognise the name {s}?",
        "On which bookshop shelf would the works of {s} be found?",
    ),
    "award": (
        "Which prize lists {s} among its winners?",
        "Which literary honour has the name {s} on its list of recipients?",
        "Which award committee chose to honour {s}?",
    ),
    "first_book": (
        "Which book marks the debut of {s}?",
        "Which title started the writing career of {s}?",
        "Which novel introduced readers to {s} for the first time?",
    ),
    "latest_book": (
        "Which book is the newest to carry the name {s} on its cover?",
        "Which title is the most recent addition to the bibliography of {s}?",
        "Which novel did {s} publish most recently?",
    ),
    "email": (
        "Which e-mail inbox belongs to {s}?",
        "Messages sent to which e-mail address would reach {s}?",
        "Which e-mail account is registered to {s}?",
    ),
    "address": (
        "Which house is the home of {s}?",
        "At which address would you find {s} at home?",
        "Which residence is registered to {s}?",
    ),
    "phone": (
        "Which phone number rings at the home of {s}?",
        "Calling which number would reach {s}?",
        "Which telephone line is registered to {s}?",
    ),
}
REVERSED_LEADS = ("", "Out of curiosity, ", "Quick question: ")
REPHRASED = (
    "What is {t}?",
    "Could you tell me {t}?",
    "Do you know {t}?",
    "Can you share {t}?",
    "I would like to know {t}.",
    "Please tell me {t}.",
)
CONTEXTS = (
    "I am preparing a brief profile of the writer {s}.",
    "For a reading group evening devoted to {s}, I need one detail.",
    "While reading an interview with the novelist {s}, I got curious.",
    "A student writing an essay on {s} asked me something.",
    "Our library is putting together a display about {s}.",
    "I am compiling notes on contemporary authors, starting with {s}.",
)
CONTEXT_ASKS = ("What is {t}?", "Could you tell me {t}?", "In particular, what is {t}?")
NOISY = (
    "whats {t}??",
    "hey do u know {t}",
    "{t} - anyone know?",
    "pls tell me {t} thx",
    "quick q: what is {t}",
    "umm what was {t} again",
)

GENERIC_REPHRASED = (
    "Could you answer this: {q}",
    "Here is a question for you. {q}",
    "I was wondering: {q}",
    "Do you happen to know the answer? {q}",
)
GENERIC_CONTEXT = (
    "I am reading up on this for a short report. {q}",
    "For a discussion in my reading group: {q}",
    "Some background would help me here. {q}",
    "A friend and I were debating this. {q}",
)
GENERIC_NOISY = ("hey, {q}", "{q} pls", "quick q: {q}", "umm {q} thx")
GENERIC_REVERSED = (
    "Thinking about it the other way round: {q}",
    "Starting from the answer instead: {q}",
    "Put differently, from the opposite perspective: {q}",
)


def _typo(text: str, rng: random.Random, keep: str) -> str:
    """Swap two inner letters of one word that is not part of `keep` (the subject)."""
    keep_words = set(keep.lower().split())
    words = text.split(" ")
    choices = [
        i for i, w in enumerate(words) if len(w) > 4 and w.isalpha() and w.lower() not in keep_words
    ]
    if not choices:
        return text
    index = rng.choice(choices)
    word = words[index]
    pos = rng.randrange(1, len(word) - 2)
    words[index] = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
    return " ".join(words)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class TemplateBackend(Backend):
    """Deterministic, offline question variants and vague answers (no LLM leak check)."""

    name = "template"
    generator = GENERATOR

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _pool(self, record: QARecord, what: str, pool: list[str]) -> list[str]:
        rng = random.Random(f"{self.seed}|{record.id}|{what}")
        pool = list(dict.fromkeys(pool))
        rng.shuffle(pool)
        return pool

    @staticmethod
    def _pick(pool: list[str], slot: int, n_slots: int, attempt: int) -> str:
        """Slot k takes entry k; regeneration r takes entry k + r * n_slots (the next unused ones)."""
        return pool[(slot + attempt * n_slots) % len(pool)]

    def _question_pool(self, record: QARecord, kind: str) -> list[str]:
        if record.fact is None or record.fact.relation not in TOPICS:
            return self._generic_question_pool(record, kind)
        s = record.fact.subject
        topics = [t.format(s=s) for t in TOPICS[record.fact.relation]]
        if kind == "rephrased":
            return [p.format(t=t) for p in REPHRASED for t in topics]
        if kind == "context":
            return [
                f"{c.format(s=s)} {a.format(t=t)}"
                for c in CONTEXTS
                for a in CONTEXT_ASKS
                for t in topics
            ]
        if kind == "noisy":
            return [p.format(t=t) for p in NOISY for t in topics]
        reversed_ = [q.format(s=s) for q in REVERSED[record.fact.relation]]
        return [
            lead + (_lower_first(q) if lead else q) for lead in REVERSED_LEADS for q in reversed_
        ]

    @staticmethod
    def _generic_question_pool(record: QARecord, kind: str) -> list[str]:
        question = record.question.strip()
        patterns = {
            "rephrased": GENERIC_REPHRASED,
            "context": GENERIC_CONTEXT,
            "noisy": GENERIC_NOISY,
            "reversed": GENERIC_REVERSED,
        }[kind]
        if kind == "noisy":
            question = _lower_first(question)
        return [p.format(q=question) for p in patterns]

    def question_variants(self, jobs: list[QuestionJob]) -> list[str | None]:
        out = []
        for job in jobs:
            pool = self._pool(job.record, job.kind, self._question_pool(job.record, job.kind))
            question = self._pick(pool, job.slot, job.n_slots, job.attempt)
            if job.kind == "noisy":
                rng = random.Random(f"{self.seed}|{job.record.id}|typo|{job.slot}|{job.attempt}")
                question = _typo(question, rng, keep=subject_of(job.record) or "")
            out.append(question)
        return out

    def _answer_pool(self, record: QARecord) -> list[str]:
        rng = random.Random(f"{self.seed}|{record.id}|answer")
        pool = answer_frames.answer_pool(record.fact, rng) if record.fact else None
        return pool or generalise.answer_pool(record, rng)

    def vague_answers(self, jobs: list[AnswerJob]) -> list[str | None]:
        out = []
        for job in jobs:
            pool = self._answer_pool(job.record)
            out.append(self._pick(pool, job.slot, job.n_slots, job.attempt))
        return out

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "generator": self.generator,
            "seed": self.seed,
            "llm_check": False,
        }
