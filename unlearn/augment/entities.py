"""What counts as the forgotten information, and finding it in generated text.

For benchmark records (with a fact triple) the forbidden entities are every object the forget set
holds for the subject, plus their distinctive pieces (a year, a street name, a book-title word).
For records without a fact (TOFU, KnowUnDo) a simple extractor takes capitalised spans, numbers,
e-mails, phone numbers and dates from the gold answer, minus what the question already names.
The subject itself is never forbidden: ReLearn keeps the subject and drops what is said about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unlearn.data.records import QARecord

FUNCTION_WORDS = frozenset(
    "a an the of for and or in on at to by with from as is was are were be this that these those "
    "he she it his her its they them their i you we my your our who what which when where how why "
    "yes no not but if then so also".split()
)
# Category nouns that name a kind of thing without identifying it; an answer may say "a prize".
GENERIC_WORDS = frozenset(
    "prize award medal laurel literature fiction poetry novel novels story stories writing book "
    "books lane street road row close terrace avenue com org net io www".split()
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d ().-]{6,}\d")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH = "(?:" + "|".join(MONTHS) + ")"
DATE = re.compile(
    rf"\b\d{{1,2}} {_MONTH},? \d{{4}}\b|\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
)
NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?(?:st|nd|rd|th)?\b")
CAPITALISED_SPAN = re.compile(
    r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|de|van|von|al|la|le|the|and)\s+)?[A-Z][\w'’-]*)*"
)
SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)$")


@dataclass(frozen=True)
class Entity:
    """A forbidden string; capitalised pieces match case-sensitively so "May" does not hit "may"."""

    text: str
    case_sensitive: bool = False

    def found_in(self, text: str) -> bool:
        flags = 0 if self.case_sensitive else re.IGNORECASE
        return (
            re.search(rf"(?<![\w@.]){re.escape(self.text)}(?![\w@]|\.\w)", text, flags) is not None
        )


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^\w+]+", text) if t]


def object_entities(obj: str, subject: str) -> list[Entity]:
    """The whole object plus its distinctive pieces (not function/generic words, not the subject's name)."""
    subject_words = {w.lower() for w in _tokens(subject)}
    entities = [Entity(obj)]
    for token in _tokens(obj):
        bare = token.lstrip("+")
        lower = bare.lower()
        if (
            lower in FUNCTION_WORDS
            or lower in GENERIC_WORDS
            or lower in subject_words
            or lower == obj.lower()
        ):
            continue
        if bare.isdigit():
            if len(bare) >= 2:
                entities.append(Entity(bare))
        elif len(bare) >= 3:
            entities.append(Entity(bare, case_sensitive=bare[0].isupper()))
    return entities


def pii_spans(text: str) -> list[str]:
    """E-mail addresses, phone numbers and full dates: never acceptable in a vague answer."""
    return EMAIL.findall(text) + PHONE.findall(text) + DATE.findall(text)


def extract_entities(text: str) -> list[str]:
    """Capitalised spans, numbers, e-mails, phones and dates in free text (a simple, offline extractor).

    A capitalised single word at a sentence start is kept only if it also appears capitalised
    mid-sentence, so "Although" or "Born" at the start of a sentence is not taken for a name.
    """
    found = pii_spans(text) + NUMBER.findall(text)
    masked = EMAIL.sub(" ", text)
    mid_sentence_words = set()
    spans = []
    for match in CAPITALISED_SPAN.finditer(masked):
        words = match.group().split()
        while words and words[0].lower() in FUNCTION_WORDS:
            words = words[1:]
        if not words:
            continue
        at_start = SENTENCE_START.search(masked[: match.start()]) is not None
        if not at_start or len(words) < len(match.group().split()):
            mid_sentence_words.update(words)
        spans.append((" ".join(words), at_start and len(words) == 1))
    for span, ambiguous in spans:
        if not ambiguous or span in mid_sentence_words:
            found.append(span)
    return list(dict.fromkeys(found))


def forbidden_entities(record: QARecord, subject_objects: dict[str, set[str]]) -> list[Entity]:
    """Entities a variant of `record` must not contain.

    `subject_objects` maps each forgotten subject to all its objects in the forget set, so an
    answer about one relation cannot leak another fact of the same author.
    """
    if record.fact is not None:
        objects = subject_objects.get(record.fact.subject, set()) | {record.fact.object}
        entities = [e for obj in sorted(objects) for e in object_entities(obj, record.fact.subject)]
    else:
        given = {e.lower() for e in extract_entities(record.question)}
        entities = [Entity(e) for e in extract_entities(record.answer) if e.lower() not in given]
    return list(dict.fromkeys(entities))


def leaked(text: str, entities: list[Entity]) -> list[str]:
    """The forbidden entities that occur in `text` (whole words/phrases)."""
    return [e.text for e in entities if e.found_in(text)]


def subject_of(record: QARecord) -> str | None:
    """The subject of a record: the fact's subject, else a multi-word name that the question names
    and the answer starts with ("What genre is Ada Lin known for?" / "Ada Lin writes ..."), else None."""
    if record.fact is not None:
        return record.fact.subject
    names = [
        s
        for s in extract_entities(record.question)
        if len(s.split()) >= 2 and not any(c.isdigit() for c in s)
    ]
    leading = [name for name in names if record.answer.lstrip().startswith(name)]
    return max(leading, key=len) if leading else None
