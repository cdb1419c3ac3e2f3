"""Entity extraction for ECS: `kb` (gazetteer lookup, exact on our benchmark), `proxy` (rules, for
data without fact triples: `unlearn.eval.backends.proxy`) or `llm` (the paper's prompt)."""

from __future__ import annotations

from typing import Protocol

from unlearn.eval.backends.chat import ChatBackend
from unlearn.eval.backends.kb import KnowledgeBase

# The ReLearn reference code's extraction prompt, verbatim.
EXTRACTION_PROMPT = """>>>query:{query}
response:{response}<<<

Extract key entities from the response (excluding those already in the query):
1. Specific entities: name*, email*, locations*, dates*, organizations, events, technical terms
2. Core nouns from noun phrases: prefer extracting only the main noun (e.g., "literary" from "literary projects")
3. Only return the single core word when it's multi-word entity phrases

Avoid extracting common verbs or general defination(like 'email', 'people', 'events' 'books' and so on)

Return a list of unique entities as comma-separated values (duplicates should appear only once), without additional explanations."""


class EntityBackend(Protocol):
    name: str

    def extract(self, questions: list[str], texts: list[str]) -> list[list[str]]:
        """Entities of each text, excluding those already in its question."""
        ...


class KBEntities:
    """Names from the benchmark's triples found in the text, minus those the question states."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.name = "kb (gazetteer of the benchmark's subjects and objects; stands in for the paper's DeepSeek extractor)"

    def extract(self, questions: list[str], texts: list[str]) -> list[list[str]]:
        out = []
        for question, text in zip(questions, texts, strict=True):
            asked = {name.lower() for name in self.kb.mentions(question)}
            out.append([name for name in self.kb.mentions(text) if name.lower() not in asked])
        return out


def parse_entity_list(response: str | None) -> list[str]:
    """Comma-separated entities, stripped as the reference does; [] for a failed call."""
    if not isinstance(response, str):
        return []
    entities = (part.strip(" \n\\/\"'") for part in response.split(","))
    return list(dict.fromkeys(e for e in entities if e))


class LLMEntities:
    """The paper's extraction prompt sent to a chat model (openai:URL[#MODEL] or hf:PATH)."""

    def __init__(self, chat: ChatBackend) -> None:
        self.chat = chat
        self.name = f"llm ({chat.name}, the ReLearn extraction prompt)"

    def extract(self, questions: list[str], texts: list[str]) -> list[list[str]]:
        prompts = [
            EXTRACTION_PROMPT.format(query=q, response=t)
            for q, t in zip(questions, texts, strict=True)
        ]
        return [parse_entity_list(r) for r in self.chat.complete(prompts, max_tokens=128)]
