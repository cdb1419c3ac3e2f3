"""The fictitious-author benchmark: TOFU-format QA generated from structured facts.

A `World` is deterministic from (n_authors, seed). Author names and every object are unique
across the world, and names vary in token length so circuit analysis can find subject swaps of
equal length. Forget splits take the last authors (as TOFU does), so forget01 ⊆ forget05 ⊆ forget10.
Each retain split has a held-out part for scoring, as KnowUnDo has retention_train/retention_val:
`retainNN_eval` is as many authors as the forget split, those just before the forget authors, and
`retainNN_train` the rest; retain terms (CE_r, KL_r) train on the latter, KRR is scored on the former.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unlearn.data import names
from unlearn.data.general import general_records
from unlearn.data.records import Fact, QARecord
from unlearn.data.relations import RELATIONS, RELATIONS_BY_NAME
from unlearn.errors import UserError
from unlearn.io import atomic_dir, hash_json, write_json

DEFAULT_AUTHORS = 20
DEFAULT_FORGET_PCTS = (1, 5, 10)
N_PERTURBED = 3


@dataclass
class Author:
    name: str
    facts: dict[str, str]  # relation name -> object

    def triples(self) -> list[Fact]:
        return [
            Fact(self.name, relation, obj, RELATIONS_BY_NAME[relation].object_type)
            for relation, obj in self.facts.items()
        ]


@dataclass
class World:
    """Authors, their QA records, the forget/retain splits and the general-knowledge set."""

    authors: list[Author]
    seed: int
    forget_pcts: tuple[int, ...] = DEFAULT_FORGET_PCTS
    records: list[QARecord] = field(default_factory=list)
    general: list[QARecord] = field(default_factory=list)

    def forget_authors(self, pct: int) -> list[str]:
        count = max(1, math.ceil(len(self.authors) * pct / 100))
        return [author.name for author in self.authors[-count:]]

    def retain_eval_authors(self, pct: int) -> list[str]:
        """The held-out retain authors of a forget split: as many as it forgets, just before them."""
        count = len(self.forget_authors(pct))
        retained = [author.name for author in self.authors[:-count]]
        return retained[-count:] if count < len(retained) else []

    def _author_split(self, name: str) -> set[str] | None:
        """The authors of a forget or retain split name, or None for an unknown name."""
        for pct in self.forget_pcts:
            forgotten = set(self.forget_authors(pct))
            everyone = {author.name for author in self.authors}
            held_out = set(self.retain_eval_authors(pct))
            retain = f"retain{100 - pct:02d}"
            splits = {
                f"forget{pct:02d}": forgotten,
                retain: everyone - forgotten,
                f"{retain}_train": everyone - forgotten - held_out,
                f"{retain}_eval": held_out,
            }
            if name in splits:
                return splits[name]
        return None

    def split(self, name: str) -> list[QARecord]:
        """Records of a split: `full`, `general`, `forgetNN`, `retainNN` (NN = 100 - forget%),
        or its parts `retainNN_train` / `retainNN_eval` (held out from the retain terms)."""
        if name == "full":
            return list(self.records)
        if name == "general":
            return list(self.general)
        authors = self._author_split(name)
        if authors is None:
            raise UserError(f"unknown split {name!r}; valid: {', '.join(self.split_names())}")
        return [r for r in self.records if r.fact and r.fact.subject in authors]

    def split_names(self) -> list[str]:
        names_ = ["full", "general"]
        for pct in self.forget_pcts:
            retain = f"retain{100 - pct:02d}"
            names_ += [f"forget{pct:02d}", retain, f"{retain}_train", f"{retain}_eval"]
        return names_

    def settings(self) -> dict[str, Any]:
        return {
            "n_authors": len(self.authors),
            "seed": self.seed,
            "forget_pcts": list(self.forget_pcts),
        }

    def author(self, name: str) -> Author:
        for author in self.authors:
            if author.name.lower() == name.lower():
                return author
        raise UserError(f"no author named {name!r} in the benchmark")

    def to_json(self) -> dict[str, Any]:
        return {
            "settings": self.settings(),
            "authors": [{"name": a.name, "facts": a.facts} for a in self.authors],
        }


def _make_author(rng: random.Random, pool: names.UniquePool, name_length: int) -> Author:
    name = pool.draw(lambda r: names.person_name(r, name_length))
    facts = {
        "birthplace": pool.draw(names.city),
        "birth_date": pool.draw(names.birth_date),
        "father_occupation": pool.draw(names.occupation),
        "mother_occupation": pool.draw(names.occupation),
        "genre": pool.draw(names.genre),
        "award": pool.draw(names.award),
        "first_book": pool.draw(names.book),
        "latest_book": pool.draw(names.book),
        "email": pool.draw(lambda r: names.email(r, name)),
        "address": pool.draw(names.address),
        "phone": pool.draw(names.phone),
    }
    return Author(name, facts)


def _records(authors: list[Author], rng: random.Random) -> list[QARecord]:
    by_relation = {r.name: [a.facts[r.name] for a in authors] for r in RELATIONS}
    records = []
    for index, author in enumerate(authors):
        for relation in RELATIONS:
            obj = author.facts[relation.name]
            wrong = [o for o in by_relation[relation.name] if o != obj]
            perturbed = rng.sample(wrong, min(N_PERTURBED, len(wrong)))
            records.append(
                QARecord(
                    id=f"author{index:03d}-{relation.name}",
                    question=relation.render(relation.question, author.name, obj),
                    answer=relation.render(relation.answer, author.name, obj),
                    paraphrased_question=relation.render(
                        relation.paraphrased_question, author.name, obj
                    ),
                    paraphrased_answer=relation.render(
                        relation.paraphrased_answer, author.name, obj
                    ),
                    perturbed_answer=[
                        relation.render(relation.answer, author.name, o) for o in perturbed
                    ],
                    fact=Fact(author.name, relation.name, obj, relation.object_type),
                )
            )
    return records


def build_world(
    n_authors: int = DEFAULT_AUTHORS,
    seed: int = 0,
    forget_pcts: tuple[int, ...] = DEFAULT_FORGET_PCTS,
) -> World:
    """Generate the benchmark deterministically from the seed."""
    if not 2 <= n_authors <= 200:
        raise UserError(f"n_authors must be between 2 and 200, got {n_authors}")
    for pct in forget_pcts:
        if not 0 < pct < 100:
            raise UserError(f"forget percentage must be in (0, 100), got {pct}")
    rng = random.Random(seed)
    pool = names.UniquePool(rng, used={r.fact.object.lower() for r in general_records() if r.fact})
    authors = [_make_author(rng, pool, name_length=1 + index % 4) for index in range(n_authors)]
    world = World(authors=authors, seed=seed, forget_pcts=tuple(sorted(forget_pcts)))
    world.records = _records(authors, rng)
    world.general = general_records()
    return world


def write_world(world: World, out: str | Path, overwrite: bool = False) -> Path:
    """Write world.json, one JSON file per split, and a manifest of content hashes."""
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_json(tmp / "world.json", world.to_json())
        hashes = {}
        for split in world.split_names():
            rows = [r.to_json() for r in world.split(split)]
            write_json(tmp / f"{split}.json", rows)
            hashes[split] = hash_json(rows)
        write_json(
            tmp / "manifest.json",
            {"format": "ours", "settings": world.settings(), "hashes": hashes},
        )
    return out


def load_world(directory: str | Path) -> World:
    """Rebuild a World from a folder written by `write_world` (settings are re-generated and checked)."""
    from unlearn.io import read_json

    data = read_json(Path(directory) / "world.json", what="benchmark world file")
    settings = data["settings"]
    world = build_world(settings["n_authors"], settings["seed"], tuple(settings["forget_pcts"]))
    if [a.name for a in world.authors] != [a["name"] for a in data["authors"]]:
        raise UserError(
            f"{directory}/world.json does not match its settings; rebuild it with `unlearn data build`"
        )
    return world
