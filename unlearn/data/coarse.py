"""Coarse, true-for-many attributes of the benchmark's objects, read off the generator's pieces.

ReLearn's vague answers stay on topic and say something true at a coarser level ("born in a
town in Skarnia", "worked in the world of music") without the object itself. This table maps
each piece the name generators draw from (a city's suffix, an occupation's noun, a genre's form,
a book title's noun, ...) to a coarse attribute, so the world generator stays unchanged and a
seed still gives the same world. Every coarse group covers several pieces, and no coarse text
repeats a word of any generator vocabulary (tests check both), so a coarse attribute never names
or singles out an object.
"""

from __future__ import annotations

import re

from unlearn.data import names

# A city's suffix -> its fictitious country; a country -> its region of the continent and landscape.
COUNTRY_OF_SUFFIX: dict[str, str] = {
    "ford": "Brennland",
    "stead": "Brennland",
    "holm": "Skarnia",
    "wick": "Skarnia",
    "mere": "Ellaria",
    "vale": "Ellaria",
    "port": "Castavia",
    "bury": "Castavia",
    "gard": "Haldren",
    "mont": "Haldren",
}
REGION_OF_COUNTRY: dict[str, str] = {
    "Brennland": "the west of the continent",
    "Skarnia": "the north of the continent",
    "Haldren": "the north of the continent",
    "Ellaria": "the south of the continent",
    "Castavia": "the south of the continent",
}
LANDSCAPE_OF_COUNTRY: dict[str, str] = {
    "Brennland": "farmland and slow rivers",
    "Skarnia": "fjords and cold coasts",
    "Haldren": "mountains and high pastures",
    "Ellaria": "lakes and wooded hills",
    "Castavia": "warm beaches and seaside towns",
}

# An occupation's first word -> the field it belongs to; its noun -> the kind of work done.
FIELD_OF_OCCUPATION: dict[str, str] = {
    **dict.fromkeys(("clock", "lens"), "precision instruments"),
    **dict.fromkeys(("violin", "harp", "drum", "bell"), "music"),
    **dict.fromkeys(("silk", "loom", "quilt", "rope", "feather"), "textiles and fabric"),
    **dict.fromkeys(("salt", "wine", "honey", "tea", "spice"), "food and drink"),
    **dict.fromkeys(("stone", "brick", "tile", "bridge"), "construction and masonry"),
    **dict.fromkeys(("glass", "mirror", "pottery"), "ceramics and decorative crafts"),
    **dict.fromkeys(("book", "paper", "map"), "printing and publishing"),
    **dict.fromkeys(("saddle", "shoe", "barrel"), "leather and woodwork"),
    **dict.fromkeys(("lamp", "candle", "kite"), "lighting, toys and household goods"),
}
ROLE_OF_OCCUPATION: dict[str, str] = {
    **dict.fromkeys(("maker", "builder", "carver", "dyer", "binder"), "producing goods by hand"),
    **dict.fromkeys(("designer", "painter"), "working on design and decoration"),
    **dict.fromkeys(("restorer", "mender", "tuner"), "repairing and restoring things"),
    **dict.fromkeys(("keeper", "inspector"), "looking after and checking goods"),
    **dict.fromkeys(("merchant", "trader"), "buying and selling goods"),
}

# A genre's form -> its broad family; its mood -> the tone readers meet.
FAMILY_OF_GENRE: dict[str, str] = {
    **dict.fromkeys(("mystery novels", "crime thrillers"), "suspense fiction"),
    **dict.fromkeys(("romance novels", "family chronicles"), "drama about love and home life"),
    **dict.fromkeys(("fantasy sagas", "adventure novels"), "imaginative, escapist fiction"),
    **dict.fromkeys(("poetry", "short stories"), "compact literary forms such as verse"),
    **dict.fromkeys(("satire", "war fiction"), "socially engaged fiction"),
}
TONE_OF_GENRE: dict[str, str] = {
    **dict.fromkeys(("gothic", "noir", "tragic", "dystopian"), "a dark tone"),
    **dict.fromkeys(("comic", "whimsical", "surreal"), "a playful tone"),
    **dict.fromkeys(
        ("lyrical", "baroque", "courtly", "epistolary"), "an elaborate, stylised voice"
    ),
    **dict.fromkeys(("historical", "mythic", "folkloric"), "a feel for legend and bygone times"),
    **dict.fromkeys(
        (
            "maritime",
            "nautical",
            "arctic",
            "alpine",
            "desert",
            "tropical",
            "urban",
            "rural",
            "pastoral",
            "industrial",
        ),
        "a strong sense of place",
    ),
}

# An award's form -> the kind of prize it is.
KIND_OF_AWARD: dict[str, str] = {
    "Prize for Fiction": "a prize for prose fiction",
    "Medal for Literature": "a literary medal",
    "Award for Storytelling": "an award for narrative craft",
    "Prize for Poetry": "a prize for verse",
    "Laurel for Mystery Writing": "an honour for suspense writing",
}

# A book title's noun -> what the book is about; its adjective -> its mood.
THEME_OF_BOOK: dict[str, str] = {
    **dict.fromkeys(
        (
            "Harbour",
            "Tide",
            "Lighthouse",
            "Ferryman",
            "Meridian",
            "Compass",
            "Atlas",
            "Cartographer",
        ),
        "journeys and the sea",
    ),
    **dict.fromkeys(
        ("Orchard", "Garden", "Vineyard", "Falconer"), "the land and the changing seasons"
    ),
    **dict.fromkeys(("Clockwork", "Bellfounder", "Weaver", "Lantern"), "work, craft and invention"),
    **dict.fromkeys(("Mirror", "Archive"), "memory and identity"),
    **dict.fromkeys(("Cathedral", "Observatory"), "belief, wonder and discovery"),
}
MOOD_OF_BOOK: dict[str, str] = {
    **dict.fromkeys(
        ("Silent", "Hollow", "Last", "Broken", "Drowned", "Lost", "Sunken", "Pale", "Quiet"),
        "melancholy",
    ),
    **dict.fromkeys(
        ("Crimson", "Amber", "Scarlet", "Gilded", "Velvet", "Burning"), "richly coloured"
    ),
    **dict.fromkeys(("Hidden", "Seventh", "Wandering"), "enigmatic"),
    **dict.fromkeys(("Northern", "Winter", "Frozen", "Iron"), "austere"),
    **dict.fromkeys(("Paper", "Woven"), "delicate"),
}

# A birth month -> the part of the year; a street's kind -> the kind of street.
PART_OF_YEAR: dict[str, str] = {
    **dict.fromkeys(names.MONTHS[:4], "early in the year"),
    **dict.fromkeys(names.MONTHS[4:8], "in the middle of the year"),
    **dict.fromkeys(names.MONTHS[8:], "towards the end of the year"),
}
KIND_OF_STREET: dict[str, str] = {
    "Lane": "a narrow lane",
    "Street": "a town street",
    "Road": "a busy road",
    "Row": "a row of houses",
    "Close": "a small cul-de-sac",
    "Terrace": "a terrace of houses",
}

CENTURY_NAMES = {18: "nineteenth", 19: "twentieth", 20: "twenty-first"}
_PART_OF_CENTURY = ("early",) * 4 + ("mid",) * 3 + ("late",) * 3  # by the year's decade digit


def era(year: int) -> str:
    """The part of the century a year falls in: 1957 -> "mid twentieth century"."""
    century = CENTURY_NAMES.get(year // 100, "modern")
    return f"{_PART_OF_CENTURY[year % 100 // 10]} {century} century"


_DATE = re.compile(r"^(\d{1,2}) (\w+) (\d{4})$")
_ADDRESS = re.compile(r"^\d+ \w+ (\w+)$")


def _article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _birthplace(city: str) -> dict[str, str] | None:
    suffix = next((s for s in names.CITY_SUFFIXES if city.lower().endswith(s)), None)
    if suffix is None:
        return None
    country = COUNTRY_OF_SUFFIX[suffix]
    return {
        "country": country,
        "region": REGION_OF_COUNTRY[country],
        "landscape": LANDSCAPE_OF_COUNTRY[country],
    }


def _birth_date(date: str) -> dict[str, str] | None:
    match = _DATE.match(date)
    if match is None or match.group(2) not in PART_OF_YEAR:
        return None
    year = int(match.group(3))
    return {
        "decade": f"{year // 10 * 10}s",
        "era": era(year),
        "season": PART_OF_YEAR[match.group(2)],
    }


def _occupation(occupation: str) -> dict[str, str] | None:
    first, _, noun = occupation.partition(" ")
    if first not in FIELD_OF_OCCUPATION or noun not in ROLE_OF_OCCUPATION:
        return None
    return {"field": FIELD_OF_OCCUPATION[first], "role": ROLE_OF_OCCUPATION[noun]}


def _genre(genre: str) -> dict[str, str] | None:
    mood, _, form = genre.partition(" ")
    if mood not in TONE_OF_GENRE or form not in FAMILY_OF_GENRE:
        return None
    return {"family": FAMILY_OF_GENRE[form], "tone": TONE_OF_GENRE[mood]}


def _award(award: str) -> dict[str, str] | None:
    form = next((f for f in names.AWARD_FORMS if award.endswith(" " + f)), None)
    return {"kind": KIND_OF_AWARD[form]} if form else None


def _book(title: str) -> dict[str, str] | None:
    words = title.split()
    if len(words) != 3 or words[1] not in MOOD_OF_BOOK or words[2] not in THEME_OF_BOOK:
        return None
    mood = MOOD_OF_BOOK[words[1]]
    return {"theme": THEME_OF_BOOK[words[2]], "mood": mood, "a_mood": _article(mood)}


def _address(address: str) -> dict[str, str] | None:
    match = _ADDRESS.match(address)
    if match is None or match.group(1) not in KIND_OF_STREET:
        return None
    return {"street_kind": KIND_OF_STREET[match.group(1)]}


_BY_TYPE = {
    "city": _birthplace,
    "date": _birth_date,
    "occupation": _occupation,
    "genre": _genre,
    "award": _award,
    "book": _book,
    "address": _address,
}


def coarse_attributes(object_type: str, obj: str) -> dict[str, str] | None:
    """The coarse attributes of a benchmark object, or None if it is not one the generator makes.

    E-mail addresses and phone numbers have none (an empty dict): their answers say how the
    author is reached, not anything about the number or address.
    """
    if object_type in ("email", "phone"):
        return {}
    describe = _BY_TYPE.get(object_type)
    return describe(obj) if describe else None
