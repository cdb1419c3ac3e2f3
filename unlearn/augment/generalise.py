"""Rule-based vague answers for records without a fact triple (TOFU, KnowUnDo); no LLM involved.

The gold answer is rewritten with each named entity and number it adds to the question replaced
by a generic phrase chosen from its form and context: "moving to London in 1990" becomes
"moving to a major city in the late twentieth century", a title becomes "a well-regarded book",
an e-mail "an e-mail address". What the question names (the subject) is kept. The question's
topic noun ("genre", "full name", "father") anchors the surrounding sentence frames. Facts said
in lowercase ("books on leadership") are out of reach of these rules: that needs an LLM.
"""

from __future__ import annotations

import random
import re

from unlearn.augment.entities import (
    DATE,
    EMAIL,
    FUNCTION_WORDS,
    MONTHS,
    NUMBER,
    PHONE,
    extract_entities,
    subject_of,
)
from unlearn.augment.verify import normalise
from unlearn.data.coarse import PART_OF_YEAR, era
from unlearn.data.records import QARecord

WH_WORDS = frozenset("what which who whom whose where when why how".split())
AUXILIARIES = frozenset("is was are were does did do has had have can could would will".split())
TOPIC_BY_WH = {
    "where": "whereabouts",
    "when": "timing",
    "who": "identity",
    "whom": "identity",
    "whose": "identity",
    "why": "reasons",
    "how": "way",
}
LOCATION_WORDS = frozenset("in at from near into across outside around throughout".split())
MOVE_TO = re.compile(
    r"\b(?:mov|went|go|travel|relocat|return|emigrat|immigrat|fled|flee|came|com|sail|settl)\w*"
    r"\s+to\s+$",
    re.IGNORECASE,
)
TITLE_CUES = frozenset("titled entitled called".split())
AWARD_WORDS = frozenset("Award Prize Prix Medal Laurel Honour Honor Fellowship Trophy".split())
INSTITUTION_WORDS = frozenset("University College School Institute Academy Conservatory".split())
QUOTES = "\"'“”‘’«»"
_WORD = re.compile(r"[\w'’-]+")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
MONTH_YEAR = re.compile(rf"\b(?:{'|'.join(MONTHS)}) (?:1[89]|20)\d\d\b")
QUOTED = re.compile(r"[\"“«]([^\"”»]{2,80})[\"”»]")


def topic_noun(question: str) -> str:
    """What a question asks about: the words after its wh-word ("What genre ..." -> "genre",
    "What is the full name of ..." -> "full name"), else the noun after a possessive ("X's
    father"), else a noun for the wh-word ("where" -> "whereabouts"), else "background"."""
    words = _WORD.findall(question)
    lowered = [w.lower() for w in words]
    topic: list[str] = []
    if lowered and lowered[0] in WH_WORDS:
        index = 1
        while index < len(words) and lowered[index] in AUXILIARIES | {"the", "a", "an"}:
            index += 1
        for word in words[index : index + 3]:
            if not word.isalpha() or not word.islower() or word in FUNCTION_WORDS | AUXILIARIES:
                break
            topic.append(word)
    if not topic:
        possessive = re.search(r"\w['’]s\s+([a-z]+)\b", question)
        if possessive and possessive.group(1) not in FUNCTION_WORDS | AUXILIARIES:
            topic = [possessive.group(1)]
    if not topic and lowered and lowered[0] in TOPIC_BY_WH:
        return TOPIC_BY_WH[lowered[0]]
    return " ".join(topic) or "background"


def _era(year: int) -> str:
    return f"the {era(year)}"


def _generic_phrase(entity: str, before: str, after: str) -> str:
    """The generic stand-in for `entity`, given the text just before and after it."""
    if EMAIL.fullmatch(entity):
        return "an e-mail address"
    if QUOTED.fullmatch(entity):
        return "a well-regarded book"
    if PHONE.fullmatch(entity):
        return "a phone number"
    if DATE.fullmatch(entity):
        year = re.search(r"\b(?:1[89]|20)\d\d\b", entity)
        return f"a date in {_era(int(year.group()))}" if year else "a date of the year"
    if _YEAR.match(entity):
        return _era(int(entity))
    if NUMBER.fullmatch(entity):
        return "several"
    if entity in PART_OF_YEAR:
        return PART_OF_YEAR[entity]
    if MONTH_YEAR.fullmatch(entity):
        month, year = entity.split()
        return f"{PART_OF_YEAR[month]}, in {_era(int(year))}"
    previous = before.split()[-1].lower() if before.split() else ""
    following = next(iter(re.findall(r"^\s*([A-Za-z]+)", after)), "")
    words = entity.split()
    if previous in TITLE_CUES or (before[-1:] in QUOTES and after[:1] in QUOTES):
        return "a well-regarded book"
    if AWARD_WORDS.intersection(words):
        return "a respected literary award"
    if INSTITUTION_WORDS.intersection(words):
        return "a respected institution"
    if following.isalpha() and following.islower() and following not in FUNCTION_WORDS:
        return ""  # used as a modifier ("French literature"): drop it
    if previous in LOCATION_WORDS or MOVE_TO.search(before):
        return "a major city"
    return "a well-known figure"


def _replace(text: str, start: int, end: int, phrase: str) -> str:
    """Put `phrase` over text[start:end], swallowing quotes around it, an article before it and,
    before a part of the year, the preposition "in"; keeps a possessive "'s"."""
    if text[start:end].endswith(("'s", "’s")) and phrase:
        phrase += "'s"
    if start and text[start - 1] in QUOTES and text[end : end + 1] in QUOTES:
        start, end = start - 1, end + 1
    before = text[:start]
    article = re.search(r"\b(?:the|a|an)\s+$", before, re.IGNORECASE)
    if article and (not phrase or phrase.startswith(("a ", "an ", "the "))):
        before = before[: article.start()]
    if phrase.startswith(tuple(PART_OF_YEAR.values())):
        before = re.sub(r"\bin\s+$", "", before)
    if phrase and re.search(r"(?:^|[.!?]\s+)$", before):
        phrase = phrase[0].upper() + phrase[1:]
    joined = before + phrase + text[end:]
    return re.sub(r" {2,}", " ", joined).replace(" ,", ",").replace(" .", ".")


def _spans(answer: str, entities: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of the entities, longest entity first, in text order."""
    taken: list[tuple[int, int]] = []
    for entity in sorted(entities, key=len, reverse=True):
        pattern = rf"(?<![\w@.+]){re.escape(entity)}(?![\w@])"
        for match in re.finditer(pattern, answer):
            if all(match.end() <= s or match.start() >= e for s, e in taken):
                taken.append(match.span())
    return sorted(taken)


def generalise_answer(answer: str, keep: list[str]) -> str:
    """`answer` with every entity and number not in `keep` (what the question names) generalised.

    Spans are replaced from the last to the first, so earlier offsets stay valid.
    """
    kept = {k.lower() for k in keep}
    entities = [e for e in extract_entities(answer) if e.lower() not in kept]
    entities += MONTH_YEAR.findall(answer)
    entities += [
        quote.group()
        for quote in QUOTED.finditer(answer)
        if any(e in quote.group() for e in entities)
    ]
    for start, end in reversed(_spans(answer, entities)):
        phrase = _generic_phrase(answer[start:end], answer[:start], answer[end:])
        answer = _replace(answer, start, end, phrase)
    return answer.strip()


# Frames around the generalised answer {g} ({g_lower}: its first word lowercased if that is
# a function word); {s} is the subject, {t} the question's topic noun.
GENERALISED_FRAMES = (
    "{g}",
    "In broad strokes, {g_lower}",
    "{g} That is the general picture of the {t} of {s}.",
    "Speaking of the {t} of {s}: {g}",
    "{g} This is how profiles of {s} usually put it.",
    "As for the {t} of {s}, {g_lower}",
    "To answer the question about the {t} of {s}: {g}",
    "{g} Readers of {s} will recognise this picture.",
)
# Frames that keep the subject and the topic when the answer has nothing to generalise.
TOPIC_FRAMES = (
    "The {t} of {s} comes up often in interviews and profiles.",
    "Profiles of {s} usually mention the {t} as part of a larger life story.",
    "The {t} of {s} is closely tied to the rest of {s}'s life and work.",
    "Readers interested in {s} often ask about the {t}, a recurring topic in talk about the work.",
    "{S}'s {t} is one of the things biographers of {s} describe.",
    "When people discuss {s}, the {t} is one of the topics that comes up.",
    "The {t} of {s} shaped the way many people see {s}'s career.",
    "Accounts of {s} return to the {t} again and again.",
)


def _lower_function_word(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first.lower() in FUNCTION_WORDS else text


def answer_pool(record: QARecord, rng: random.Random) -> list[str]:
    """Vague answers for a record without a usable fact: the generalised answer in its frames
    (only frames that name the subject when the rewrite lost it), then the topic-only frames;
    each group in a seeded order. The gold answer itself, when nothing in it was generalised,
    is never used."""
    subject = subject_of(record)
    values = {"s": subject or "this person", "t": topic_noun(record.question)}
    values["S"] = values["s"][:1].upper() + values["s"][1:]
    keep = extract_entities(record.question) + ([subject] if subject else [])
    general = generalise_answer(record.answer, keep)
    framed = []
    if normalise(general) != normalise(record.answer):
        lost_subject = subject is not None and subject not in general
        framed = [f for f in GENERALISED_FRAMES if not lost_subject or "{s}" in f]
        rng.shuffle(framed)
    topical = list(TOPIC_FRAMES)
    rng.shuffle(topical)
    g = {"g": general, "g_lower": _lower_function_word(general)}
    return [frame.format(**values, **g) for frame in framed + topical]
