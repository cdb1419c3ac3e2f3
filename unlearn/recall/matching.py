"""The eval's matcher: does an answer state a gold object, in any usual surface form?

Exact-string matching counts near misses as forgotten ("23 Dec 1961" for "23 December 1961"),
which inflates the forgetting of methods that garble rather than forget. Both the answer and the
object are normalised before a whole-word containment test:

- case, punctuation and articles (the, a, an) are dropped;
- numbers written as words become digits ("twenty-three" → 23, "twenty-third" → 23);
- ordinal suffixes go ("23rd" → 23);
- dates in the usual formats become one token: "23 December 1961", "23rd of Dec. 1961",
  "December 23, 1961", "1961-12-23" and "23/12/1961" (day first, the benchmark's order) all
  read as the same date.

A different object of the same kind (another date, another title) stays different. The exact
string test (`contains_exact`) is kept as its own column.
"""

from __future__ import annotations

import re
from functools import lru_cache

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
UNIT_ORDINALS = (
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth"
).split()
TEN_ORDINALS = (
    "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
)
SMALL = {
    **{w: i for i, w in enumerate(UNITS)},
    **{w: i for i, w in enumerate(UNIT_ORDINALS)},
}
TEN_VALUES = {
    **{w: 20 + 10 * i for i, w in enumerate(TENS)},
    **{w: 20 + 10 * i for i, w in enumerate(TEN_ORDINALS)},
}
SCALES = {"hundred": 100, "hundredth": 100, "thousand": 1000, "thousandth": 1000}
ARTICLES = {"the", "a", "an"}
MONTH_GROUP = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"  # "Sept." too
YEAR_GROUP = r"(\d{4})"
_DAY = r"(\d{1,2})"
DATE_PATTERNS: tuple[tuple[re.Pattern[str], tuple[int, int, int]], ...] = (
    # (pattern, (day group, month group, year group))
    (re.compile(rf"\b{_DAY}(?:\s+of)?\s+{MONTH_GROUP},?\s+{YEAR_GROUP}\b"), (1, 2, 3)),
    (re.compile(rf"\b{MONTH_GROUP}\s+{_DAY},?\s+{YEAR_GROUP}\b"), (2, 1, 3)),
    (re.compile(rf"\b{YEAR_GROUP}-(\d{{1,2}})-(\d{{1,2}})\b"), (3, 2, 1)),
    (re.compile(rf"\b{_DAY}[/.](\d{{1,2}})[/.]{YEAR_GROUP}\b"), (1, 2, 3)),
)


def _number_words(text: str) -> str:
    """Replace runs of English number words by their digits (one run per number)."""
    words = re.split(r"(\s+|-)", text)
    out: list[str] = []
    total, current, in_number, last = 0, 0, False, ""

    def flush() -> None:
        nonlocal total, current, in_number
        if in_number:
            out.append(str(total + current))
        total, current, in_number = 0, 0, False

    for token in words:
        word = token.lower()
        if not word.strip() or word == "-":
            if not in_number:
                out.append(token)
            continue
        if word in SMALL or word in TEN_VALUES:
            value = SMALL.get(word, TEN_VALUES.get(word, 0))
            # "one two" are two numbers; "twenty three" is one.
            if in_number and (current % 100 and not (last in TEN_VALUES and value < 10)):
                flush()
                out.append(" ")
            current, in_number = current + value, True
        elif word in SCALES and in_number:
            if SCALES[word] == 1000:
                total, current = (total + current) * 1000, 0
            else:
                current = max(current, 1) * 100
        elif word == "and" and in_number and last in SCALES:
            pass
        else:
            if in_number:
                flush()
                out.append(" ")
            out.append(token)
        last = word
    flush()
    return "".join(out)


def _dates(text: str) -> str:
    """Every date in a usual format → one token `dYYYYMMDD` (invalid day or month: left alone)."""

    def canonical(groups: tuple[int, int, int]):
        def replace(match: re.Match[str]) -> str:
            day_text, month_text, year_text = (match.group(g) for g in groups)
            month = MONTHS.get(month_text, None) if not month_text.isdigit() else int(month_text)
            day = int(day_text)
            if month is None or not 1 <= month <= 12 or not 1 <= day <= 31:
                return match.group(0)
            return f" d{int(year_text):04d}{month:02d}{day:02d} "

        return replace

    for pattern, groups in DATE_PATTERNS:
        text = pattern.sub(canonical(groups), text)
    return text


@lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """The surface-normal form of a text: lower case, digits for number words, one token per
    date, no punctuation or articles, single spaces."""
    text = _number_words(text.lower())
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)
    text = _dates(text)
    words = re.sub(r"[\W_]+", " ", text).split()
    return " ".join(word for word in words if word not in ARTICLES)


def states(text: str, obj: str) -> bool:
    """Whether `text` states `obj` in some usual surface form (whole words, after `normalise`)."""
    needle = normalise(obj)
    return bool(needle) and f" {needle} " in f" {normalise(text)} "


def contains_exact(text: str, obj: str) -> bool:
    """The exact-string test (case-insensitive substring), kept as its own column."""
    return obj.lower() in text.lower()
