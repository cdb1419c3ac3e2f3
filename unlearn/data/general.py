"""About a hundred real-world facts, written by hand (like TOFU's world_facts).

Used for ReLearn's general-data mixing and for utility checks: a pretrained base model should
already answer most of them. Each answer ends with its object. Capitals and authors are listed
here; the science and everyday facts in `unlearn.data.general_science`.
"""

from __future__ import annotations

from unlearn.data.general_science import SCIENCE
from unlearn.data.records import Fact, QARecord

CAPITALS = (
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Japan", "Tokyo"),
    ("China", "Beijing"),
    ("Russia", "Moscow"),
    ("Egypt", "Cairo"),
    ("Canada", "Ottawa"),
    ("Australia", "Canberra"),
    ("Brazil", "Brasilia"),
    ("India", "New Delhi"),
    ("Mexico", "Mexico City"),
    ("Greece", "Athens"),
    ("Portugal", "Lisbon"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Finland", "Helsinki"),
    ("Poland", "Warsaw"),
    ("Austria", "Vienna"),
    ("Ireland", "Dublin"),
    ("Kenya", "Nairobi"),
    ("Argentina", "Buenos Aires"),
    ("South Korea", "Seoul"),
    ("Turkey", "Ankara"),
    ("Peru", "Lima"),
    ("Thailand", "Bangkok"),
    ("the Netherlands", "Amsterdam"),
    ("Belgium", "Brussels"),
    ("Denmark", "Copenhagen"),
)
AUTHORS = (
    ("Romeo and Juliet", "William Shakespeare"),
    ("Pride and Prejudice", "Jane Austen"),
    ("1984", "George Orwell"),
    ("War and Peace", "Leo Tolstoy"),
    ("The Odyssey", "Homer"),
    ("Don Quixote", "Miguel de Cervantes"),
    ("Hamlet", "William Shakespeare"),
    ("Oliver Twist", "Charles Dickens"),
    ("The Old Man and the Sea", "Ernest Hemingway"),
    ("Frankenstein", "Mary Shelley"),
    ("Moby-Dick", "Herman Melville"),
    ("Crime and Punishment", "Fyodor Dostoevsky"),
    ("The Divine Comedy", "Dante Alighieri"),
    ("Faust", "Johann Wolfgang von Goethe"),
    ("Les Miserables", "Victor Hugo"),
    ("The Great Gatsby", "F. Scott Fitzgerald"),
    ("Harry Potter and the Philosopher's Stone", "J. K. Rowling"),
    ("The Hobbit", "J. R. R. Tolkien"),
    ("Dracula", "Bram Stoker"),
    ("Alice's Adventures in Wonderland", "Lewis Carroll"),
)


def general_records() -> list[QARecord]:
    """The hand-written general-knowledge QA set (100 facts) as records with triples."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for country, capital in CAPITALS:
        rows.append(
            (
                f"What is the capital of {country}?",
                f"The capital of {country} is",
                country,
                "capital",
                capital,
                "city",
            )
        )
    for title, author in AUTHORS:
        rows.append(
            (f"Who wrote {title}?", f"{title} was written by", title, "author", author, "person")
        )
    for question, prefix, subject, relation, obj in SCIENCE:
        rows.append((question, prefix, subject, relation, obj, "general"))
    return [
        QARecord(
            id=f"general-{index:03d}",
            question=question,
            answer=f"{prefix} {obj}.",
            fact=Fact(subject, relation, obj, object_type),
            source="general",
        )
        for index, (question, prefix, subject, relation, obj, object_type) in enumerate(rows)
    ]
