"""The benchmark's knowledge base: every subject and object of its fact triples.

It stands in for the paper's LLM entity extractor (a gazetteer lookup is exact on our benchmark)
and for its NLI model (an answer entails the gold answer when it states the gold object, and
contradicts it when it states another object of the same type).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from unlearn.data.records import Fact, QARecord
from unlearn.errors import UserError


class KnowledgeBase:
    """A gazetteer of entity names and the objects of each object type."""

    def __init__(self, facts: Iterable[Fact]) -> None:
        facts = list(dict.fromkeys(facts))
        if not facts:
            raise UserError(
                "the kb backends need fact triples; give our benchmark's data (ours:DIR#split)"
            )
        self.objects_by_type: dict[str, set[str]] = defaultdict(set)
        names: set[str] = set()
        for fact in facts:
            self.objects_by_type[fact.object_type].add(fact.object)
            names.update((fact.subject, fact.object))
        self.names = sorted(names, key=lambda name: (-len(name), name))
        # Longest names first, so "Mexico City" wins over "Mexico" at the same position.
        self._pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(name) for name in self.names) + r")(?!\w)",
            re.IGNORECASE,
        )
        self._canonical = {name.lower(): name for name in self.names}

    @classmethod
    def for_records(
        cls, records: Iterable[QARecord], world_dir: str | Path | None = None
    ) -> KnowledgeBase:
        """Facts of the given records, plus every author triple of the benchmark when its folder is known."""
        facts = [r.fact for r in records if r.fact is not None]
        if world_dir is not None:
            from unlearn.data.benchmark import load_world

            world = load_world(world_dir)
            facts = [fact for author in world.authors for fact in author.triples()] + facts
        return cls(facts)

    def mentions(self, text: str) -> list[str]:
        """Entity names stated in `text` (case-insensitive, whole words), in order, without repeats."""
        found = (self._canonical[m.group(0).lower()] for m in self._pattern.finditer(text))
        return list(dict.fromkeys(found))

    def states(self, text: str, name: str) -> bool:
        return re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text, re.IGNORECASE) is not None

    def rivals(self, fact: Fact) -> set[str]:
        """Other objects of the fact's object type: stating one of them contradicts the fact."""
        return self.objects_by_type.get(fact.object_type, set()) - {fact.object}
