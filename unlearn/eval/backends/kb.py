"""The benchmark's knowledge base: every subject and object of its fact triples.

It stands in for the paper's LLM entity extractor (a gazetteer lookup is exact on our benchmark)
and for its NLI model (an answer entails the gold answer when it states the gold object, and
contradicts it when it states another object of the same type). Names are found in their usual
surface forms (`unlearn.recall.matching`: case, punctuation, articles, number words, date formats),
so a near miss such as "23 Dec 1961" for "23 December 1961" counts as stating the object.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from unlearn.data.records import Fact, QARecord
from unlearn.errors import UserError
from unlearn.recall.matching import normalise, states


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
        # Matched on normal forms; longest first, so "Mexico City" wins over "Mexico".
        self._canonical = {normalise(name): name for name in reversed(self.names)}
        forms = sorted((f for f in self._canonical if f), key=lambda f: (-len(f), f))
        self._pattern = re.compile(
            r"(?<![\w])(?:" + "|".join(re.escape(form) for form in forms) + r")(?![\w])"
        )

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
        found = (self._canonical[m.group(0)] for m in self._pattern.finditer(normalise(text)))
        return list(dict.fromkeys(found))

    def states(self, text: str, name: str) -> bool:
        return states(text, name)

    def rivals(self, fact: Fact) -> set[str]:
        """Other objects of the fact's object type: stating one of them contradicts the fact."""
        return self.objects_by_type.get(fact.object_type, set()) - {fact.object}
