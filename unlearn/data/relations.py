"""The relations of the fictitious-author benchmark: how each fact is asked and answered.

Every answer ends with its object, so the text before the object is a cloze prompt whose next
token is the object (used by the knowledge-circuit analysis).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Relation:
    """A relation with its object type, privacy flag, and TOFU-style question/answer templates."""

    name: str
    object_type: str
    private: bool
    question: str
    answer: str
    paraphrased_question: str
    paraphrased_answer: str

    def render(self, template: str, subject: str, obj: str) -> str:
        return template.format(s=subject, o=obj)


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "birthplace",
        "city",
        False,
        "Where was {s} born?",
        "{s} was born in {o}.",
        "In which city was the writer {s} born?",
        "The birthplace of {s} is {o}.",
    ),
    Relation(
        "birth_date",
        "date",
        False,
        "When was {s} born?",
        "{s} was born on {o}.",
        "What is the birth date of the author {s}?",
        "The author {s} was born on {o}.",
    ),
    Relation(
        "father_occupation",
        "occupation",
        False,
        "What did the father of {s} do for a living?",
        "The father of {s} worked as a {o}.",
        "What was the profession of {s}'s father?",
        "The profession of {s}'s father was {o}.",
    ),
    Relation(
        "mother_occupation",
        "occupation",
        False,
        "What did the mother of {s} do for a living?",
        "The mother of {s} worked as a {o}.",
        "What was the profession of {s}'s mother?",
        "The profession of {s}'s mother was {o}.",
    ),
    Relation(
        "genre",
        "genre",
        False,
        "Which genre does {s} write?",
        "{s} is known for writing {o}.",
        "What kind of books is {s} famous for?",
        "The books of {s} are {o}.",
    ),
    Relation(
        "award",
        "award",
        False,
        "Which award did {s} receive?",
        "{s} received the {o}.",
        "What prize has the author {s} won?",
        "The author {s} won the {o}.",
    ),
    Relation(
        "first_book",
        "book",
        False,
        "What is the title of the first book by {s}?",
        "The first book by {s} is titled {o}.",
        "What was the debut novel of {s} called?",
        "The debut novel of {s} was called {o}.",
    ),
    Relation(
        "latest_book",
        "book",
        False,
        "What is the title of the latest book by {s}?",
        "The latest book by {s} is titled {o}.",
        "What is the newest novel of {s} called?",
        "The newest novel of {s} is called {o}.",
    ),
    Relation(
        "email",
        "email",
        True,
        "What is the e-mail address of {s}?",
        "The e-mail address of {s} is {o}.",
        "How can {s} be reached by e-mail?",
        "{s} can be reached by e-mail at {o}.",
    ),
    Relation(
        "address",
        "address",
        True,
        "Where does {s} live?",
        "{s} lives at {o}.",
        "What is the home address of {s}?",
        "The home address of {s} is {o}.",
    ),
    Relation(
        "phone",
        "phone",
        True,
        "What is the phone number of {s}?",
        "The phone number of {s} is {o}.",
        "Which number can be called to reach {s}?",
        "{s} can be called at {o}.",
    ),
)

RELATIONS_BY_NAME: dict[str, Relation] = {relation.name: relation for relation in RELATIONS}
