"""Rule-based mentions for the proxy backends: what an answer states, found without a model.

A mention is a span with a kind and a comparison key. Typed mentions are e-mail addresses, URLs,
phone numbers, dates (a year alone counts as a date), street addresses, other numbers, quoted
titles and capitalised names (sub-typed as award, organisation, title or name by cue words).
When an answer holds no typed mention beyond what its question states, its content phrases
(runs of words that are not function words, verb forms or question words, and not only generic
nouns) stand in, as the reference prompt's "core nouns"; their kind is `phrase`.

Known bias: entities written in lower case (occupations, genres) are only found as phrases, and
a capitalised word opening a sentence is taken for a name only when it is part of a longer name
or capitalised elsewhere too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unlearn.recall.matching import MONTH_GROUP, MONTHS, YEAR_GROUP, normalise

PHRASE = "phrase"
WORDY_KINDS = frozenset(("name", "title", "award", "organisation", "address"))
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either else
    ever every few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just many may me might more most much must my myself no nor
    not now of off on once one only or other our ours ourselves out over own quite rather same she
    should since so some such than that the their theirs them themselves then there these they
    this those though through thus to too under until up upon us very was we well were what when
    where whereas which while who whom whose why will with within without would yet you your
    yes yours yourself yourselves""".split()
)
# General nouns the reference extraction prompt tells its extractor to skip, and the verbs the
# QA templates use around their objects.
GENERIC = frozenset(
    """author authors writer writers book books work works people person event events email
    e-mail father mother parent parents name career life known born called titled named lives
    live living resides reside currently today fans readers title genre""".split()
)
# Capitalised words that open a run without being part of the name ("Two of X", "The X").
LEADING = STOPWORDS | GENERIC | frozenset("two three four five six seven eight nine ten".split())
NAME_CONNECTORS = frozenset("of for the de del della la le du da di von van al bin y".split())
STREET_WORDS = (
    "Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Court|Ct|Terrace|Way|Place|Pl|"
    "Square|Sq|Village|Path|Field|Park|Close|Crescent|Row|Walk|Hill|Gardens|Alley|Parkway|Circle"
)
STREET_PREFIXES = "Rue|Calle|Via|Avenida|Rua|Piazza|Plaza|Strada|Carrer|Ulica"
AWARD_WORDS = frozenset(
    "prize award awards medal trophy laurel laurels honor honour fellowship grant cup".split()
)
ORG_WORDS = frozenset(
    "university press publishing publishers company inc ltd institute college museum library "
    "foundation society association school academy".split()
)

_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_CAP = r"[A-Z][\w'’+&-]*(?:\.[A-Z][\w'’-]*)*"  # "Al-Kuwaiti", "O'Connor", "D.C" (no final dot)
TYPED_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Earlier patterns claim their spans first: a year inside a quoted title stays in the title.
    ("title", re.compile(r"\"([^\"\n]{2,120})\"|“([^”\n]{2,120})”")),
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("url", re.compile(r"(?:https?://|www\.)[^\s,;]+[\w/]")),
    ("date", re.compile(rf"\b{YEAR_GROUP}-(\d{{1,2}})-(\d{{1,2}})\b")),
    ("date", re.compile(rf"\b(\d{{1,2}})/(\d{{1,2}})/{YEAR_GROUP}\b")),
    (
        "date",
        re.compile(
            rf"\b{_DAY}(?:\s+of)?\s+{MONTH_GROUP}(?:,?\s+(?:in\s+)?(?:the\s+year\s+)?{YEAR_GROUP})?\b",
            re.IGNORECASE,
        ),
    ),
    ("date", re.compile(rf"\b{MONTH_GROUP}\s+{_DAY}(?:,?\s+{YEAR_GROUP})?\b", re.IGNORECASE)),
    ("date", re.compile(rf"\b{MONTH_GROUP}\s+(?:of\s+)?{YEAR_GROUP}\b", re.IGNORECASE)),
    ("phone", re.compile(r"(?<![\w+])\+?\d[\d ().-]{5,}\d(?!\w)")),
    (
        "address",
        re.compile(
            rf"\b\d{{1,5}}\s+(?:{_CAP}\s+){{0,3}}(?:{STREET_WORDS})\b\.?"
            rf"|\b\d{{1,5}}\s+(?:{STREET_PREFIXES})"
            rf"(?:\s+(?:(?:de|del|des|la|le|du|da|di)\s+)?(?:l'|d'|l’|d’)?{_CAP}){{1,3}}"
        ),
    ),
    ("date", re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")),
    ("number", re.compile(r"\b\d+(?:[.,]\d+)*\b")),
)
_NAME_TOKEN = re.compile(rf"{_CAP}|[a-z]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n\s*|[\"“(]\s*)$")


@dataclass(frozen=True)
class Mention:
    """A span of text with its kind and the key two mentions are compared by."""

    text: str
    kind: str
    key: str


def _date_key(match: re.Match[str]) -> str:
    """yyyy-mm-dd with unknown parts left out ("1958", "1958-02", "--02-25")."""
    parts = [g for g in match.groups() if g]
    year = next((p for p in parts if len(p) == 4 and p.isdigit()), "")
    month = next(
        (MONTHS[p.lower().rstrip(".")] for p in parts if p.lower().rstrip(".") in MONTHS), 0
    )
    numbers = [int(p) for p in parts if p.isdigit() and len(p) <= 2]
    if not month and len(numbers) == 2:
        # ISO dates are year-month-day; slashed ones day first, as the benchmark writes them.
        iso = re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", match.group(0)) is not None
        month, day = numbers if iso else numbers[::-1]
    else:
        day = numbers[0] if numbers else 0
    fields = [year or "-", f"{month:02d}" if month else "", f"{day:02d}" if day else ""]
    return "date:" + "-".join(f for f in fields if f)


def _key(kind: str, text: str, match: re.Match[str]) -> str:
    if kind == "date":
        return _date_key(match)
    if kind in ("phone", "number"):
        return f"{kind}:" + re.sub(r"\D", "", text)
    return normalise(text)


def _trim(text: str) -> str:
    text = text.strip(" \t\n,;:!?'\"“”")
    return text[:-1] if text.endswith(".") and not re.search(r"\b[A-Z]\.$", text) else text


def _typed(text: str) -> tuple[list[tuple[int, Mention]], list[tuple[int, int]]]:
    """Typed mentions with their start offsets, and the spans they claim."""
    found: list[tuple[int, Mention]] = []
    claimed: list[tuple[int, int]] = []
    for kind, pattern in TYPED_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in claimed):
                continue
            if kind == "phone" and len(re.sub(r"\D", "", match.group(0))) < 7:
                continue
            span = next((g for g in match.groups() if g), None) if kind == "title" else None
            surface = _trim(span or match.group(0))
            if surface:
                found.append((start, Mention(surface, kind, _key(kind, surface, match))))
                claimed.append((start, end))
    return found, claimed


def _name_kind(words: list[str], opens_with_the: bool) -> str:
    lowered = {w.lower().strip(".") for w in words}
    if lowered & AWARD_WORDS:
        return "award"
    if lowered & ORG_WORDS:
        return "organisation"
    return "title" if opens_with_the else "name"


def _name_runs(text: str, claimed: list[tuple[int, int]]) -> list[list[re.Match[str]]]:
    """Runs of capitalised words, separated by spaces only, with connectors ("of", "de") inside."""
    runs: list[list[re.Match[str]]] = []
    current: list[re.Match[str]] = []

    def close() -> None:
        while current and current[-1].group(0)[0].islower():
            current.pop()
        if current:
            runs.append(current.copy())
        current.clear()

    for token in _NAME_TOKEN.finditer(text):
        if any(a <= token.start() < b for a, b in claimed):
            close()
            continue
        word = token.group(0)
        adjacent = bool(current) and not text[current[-1].end() : token.start()].strip()
        if word[0].isupper():
            if not adjacent:
                close()
            current.append(token)
        elif adjacent and word in NAME_CONNECTORS:
            current.append(token)
        else:
            close()
    close()
    return runs


def _names(text: str, claimed: list[tuple[int, int]]) -> list[tuple[int, Mention]]:
    """Capitalised names, less leading function words; a lone capitalised word that opens a
    sentence counts only when the text capitalises it mid-sentence too."""
    runs = _name_runs(text, claimed)
    mid_sentence = {
        token.group(0) for run in runs for token in run if not _opens_sentence(text, token.start())
    }
    found = []
    for run in runs:
        opens_with_the = run[0].group(0) == "The" and not _opens_sentence(text, run[0].start())
        while run and (run[0].group(0)[0].islower() or run[0].group(0).lower() in LEADING):
            run.pop(0)
        if not run or (
            len(run) == 1
            and _opens_sentence(text, run[0].start())
            and run[0].group(0) not in mid_sentence
        ):
            continue
        surface = re.sub(r"['’]s$", "", _trim(text[run[0].start() : run[-1].end()]))
        kind = _name_kind(surface.split(), opens_with_the)
        found.append((run[0].start(), Mention(surface, kind, normalise(surface))))
    return found


def _opens_sentence(text: str, position: int) -> bool:
    return _SENTENCE_START.search(text[:position]) is not None


def mentions(text: str) -> list[Mention]:
    """Every typed mention of `text`, in order of appearance, the first of each key kept."""
    typed, claimed = _typed(text)
    unique: dict[str, Mention] = {}
    for _, mention in sorted(typed + _names(text, claimed), key=lambda item: item[0]):
        if mention.key:
            unique.setdefault(mention.key, mention)
    return list(unique.values())


def _content(word: str) -> bool:
    """A word that can be part of a content phrase: not a function word, a verb form (-ed,
    -ing) or a possessive."""
    lowered = word.lower().strip("'’-")
    return (
        len(lowered) > 2
        and lowered not in STOPWORDS
        and not lowered.endswith(("ed", "ing", "'s", "’s"))
    )


def phrases(text: str, asked: set[str]) -> list[Mention]:
    """Runs of content words of `text` absent from the question's words `asked`; runs made only
    of generic nouns ("books", "email") are dropped."""
    runs: list[list[str]] = []
    last_end = -1
    for match in _WORD.finditer(text):
        word = match.group(0)
        keep = _content(word) and word.lower() not in asked
        if keep and runs and last_end >= 0 and text[last_end : match.start()].strip() == "":
            runs[-1].append(word)
        elif keep:
            runs.append([word])
        last_end = match.end() if keep else -1
    texts = [" ".join(run) for run in runs if any(w.lower() not in GENERIC for w in run)]
    return [Mention(t, PHRASE, normalise(t)) for t in dict.fromkeys(texts)]


def question_words(question: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(question)}


def unasked_mentions(question: str, text: str) -> list[Mention]:
    """Typed mentions of `text` that its question does not already state."""
    asked_keys = {m.key for m in mentions(question)}
    asked_words = question_words(question)
    asked_text = f" {normalise(question)} "
    return [
        m
        for m in mentions(text)
        if m.key not in asked_keys
        and f" {m.key} " not in asked_text
        and not (m.kind in WORDY_KINDS and _all_words_asked(m.text, asked_words))
    ]


def new_mentions(question: str, text: str) -> list[Mention]:
    """Mentions of `text` that its question does not already state; content phrases when none."""
    return unasked_mentions(question, text) or phrases(text, question_words(question))


def _all_words_asked(text: str, asked: set[str]) -> bool:
    words = [w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS]
    return bool(words) and all(w in asked for w in words)


def slot_before(text: str, span: str) -> tuple[str, ...] | None:
    """The two words before the first occurrence of `span`, articles made alike: the slot a
    phrase fills ("worked as a [violin dyer]" and "worked as an [oboe maker]": ("as", "a"))."""
    at = text.find(span)
    if at < 0:
        return None
    words = [w.lower() for w in _WORD.findall(text[:at])][-2:]
    return tuple("a" if w in ("a", "an", "the") else w for w in words) or None
