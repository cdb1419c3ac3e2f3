"""Shared logic of the LLM backends: build the prompts, call `complete`, parse the replies.

A subclass only implements `complete(prompts, draws, max_tokens)`. `draw` numbers each request
for the same prompt (variant slot and regeneration round), so sampling differs between them and a
cache can key on it.
"""

from __future__ import annotations

from abc import abstractmethod

from unlearn.augment.backends.base import AnswerJob, Backend, CheckJob, QuestionJob
from unlearn.augment.backends.instructions import (
    LEAK_CHECK_PROMPT,
    QUESTION_PROMPTS,
    VAGUE_ANSWER_PROMPT,
    parse_answer,
    parse_question,
    parse_verdict,
)

QUESTION_TOKENS = 64
ANSWER_TOKENS = 128
CHECK_TOKENS = 512
DRAWS_PER_SLOT = 100  # regeneration rounds per slot stay below this


class LLMBackend(Backend):
    """A chat model asked with ReLearn's prompts; it also judges leaks (chain of thought, yes/no)."""

    llm_check = True

    @abstractmethod
    def complete(self, prompts: list[str], draws: list[int], max_tokens: int) -> list[str | None]:
        """One reply per prompt (a user turn); None where the server's reply held no text."""

    @staticmethod
    def _draw(slot: int, attempt: int) -> int:
        return slot * DRAWS_PER_SLOT + attempt

    def question_variants(self, jobs: list[QuestionJob]) -> list[str | None]:
        prompts = [QUESTION_PROMPTS[job.kind].format(question=job.record.question) for job in jobs]
        draws = [self._draw(job.slot, job.attempt) for job in jobs]
        return [parse_question(reply) for reply in self.complete(prompts, draws, QUESTION_TOKENS)]

    def vague_answers(self, jobs: list[AnswerJob]) -> list[str | None]:
        prompts = [
            VAGUE_ANSWER_PROMPT.format(question=job.question, answer=job.record.answer)
            for job in jobs
        ]
        draws = [self._draw(job.slot, job.attempt) for job in jobs]
        return [parse_answer(reply) for reply in self.complete(prompts, draws, ANSWER_TOKENS)]

    def leak_checks(self, jobs: list[CheckJob]) -> list[bool | None]:
        prompts = [LEAK_CHECK_PROMPT.format(text=job.text) for job in jobs]
        draws = [job.attempt for job in jobs]
        return [parse_verdict(reply) for reply in self.complete(prompts, draws, CHECK_TOKENS)]
