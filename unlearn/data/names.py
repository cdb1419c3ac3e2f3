"""Deterministic generators of fictitious names and objects, unique across the whole world."""

from __future__ import annotations

import random
from collections.abc import Callable

ONSETS = (
    "b",
    "br",
    "c",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "st",
    "t",
    "th",
    "v",
    "w",
    "z",
    "qu",
    "sh",
)
VOWELS = ("a", "e", "i", "o", "u", "ae", "ia", "ou", "y")
CODAS = ("", "", "n", "r", "l", "s", "th", "m", "x", "nd", "rk", "ll")

CITY_SUFFIXES = ("ford", "holm", "mere", "vale", "port", "bury", "stead", "wick", "gard", "mont")
OCCUPATION_ADJECTIVES = (
    "clock",
    "glass",
    "rope",
    "salt",
    "lamp",
    "map",
    "bell",
    "silk",
    "wine",
    "stone",
    "feather",
    "loom",
    "kite",
    "honey",
    "tile",
    "bridge",
    "violin",
    "book",
    "candle",
    "pottery",
    "barrel",
    "harp",
    "shoe",
    "brick",
    "paper",
    "lens",
    "quilt",
    "mirror",
    "saddle",
    "spice",
    "tea",
    "drum",
)
OCCUPATION_NOUNS = (
    "maker",
    "restorer",
    "merchant",
    "painter",
    "binder",
    "tuner",
    "inspector",
    "carver",
    "dyer",
    "keeper",
    "builder",
    "mender",
    "trader",
    "designer",
)
GENRE_MOODS = (
    "gothic",
    "maritime",
    "pastoral",
    "dystopian",
    "comic",
    "lyrical",
    "historical",
    "mythic",
    "epistolary",
    "noir",
    "alpine",
    "desert",
    "industrial",
    "arctic",
    "tropical",
    "urban",
    "folkloric",
    "whimsical",
    "tragic",
    "baroque",
    "nautical",
    "surreal",
    "rural",
    "courtly",
)
GENRE_FORMS = (
    "mystery novels",
    "romance novels",
    "fantasy sagas",
    "war fiction",
    "short stories",
    "crime thrillers",
    "family chronicles",
    "adventure novels",
    "poetry",
    "satire",
)
AWARD_FORMS = (
    "Prize for Fiction",
    "Medal for Literature",
    "Award for Storytelling",
    "Prize for Poetry",
    "Laurel for Mystery Writing",
)
BOOK_ADJECTIVES = (
    "Silent",
    "Crimson",
    "Hollow",
    "Last",
    "Amber",
    "Broken",
    "Northern",
    "Hidden",
    "Drowned",
    "Paper",
    "Winter",
    "Seventh",
    "Gilded",
    "Quiet",
    "Burning",
    "Lost",
    "Scarlet",
    "Woven",
    "Sunken",
    "Velvet",
    "Iron",
    "Pale",
    "Wandering",
    "Frozen",
)
BOOK_NOUNS = (
    "Lantern",
    "Harbour",
    "Orchard",
    "Cartographer",
    "Mirror",
    "Tide",
    "Garden",
    "Clockwork",
    "Archive",
    "Lighthouse",
    "Meridian",
    "Compass",
    "Vineyard",
    "Bellfounder",
    "Ferryman",
    "Atlas",
    "Cathedral",
    "Falconer",
    "Weaver",
    "Observatory",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MAIL_DOMAINS = ("quillmail.org", "inkpost.net", "lettera.com", "pagewise.io")
STREETS = ("Lane", "Street", "Road", "Row", "Close", "Terrace")


def syllable(rng: random.Random) -> str:
    return rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)


def word(rng: random.Random, n_syllables: int) -> str:
    return "".join(syllable(rng) for _ in range(n_syllables)).capitalize()


class UniquePool:
    """Draws values from a generator until one is new; values never repeat across the world."""

    def __init__(self, rng: random.Random, used: set[str]) -> None:
        self.rng = rng
        self.used = used

    def draw(self, make: Callable[[random.Random], str], max_tries: int = 10_000) -> str:
        for _ in range(max_tries):
            value = make(self.rng)
            if value.lower() not in self.used:
                self.used.add(value.lower())
                return value
        raise RuntimeError("ran out of unique values; lower the number of authors")


def person_name(rng: random.Random, length: int) -> str:
    """A first and last name; `length` (1-4) sets the syllable count, hence the token length."""
    first_syllables, last_syllables = [(1, 1), (1, 2), (2, 2), (2, 3)][length - 1]
    return f"{word(rng, first_syllables)} {word(rng, last_syllables)}"


def city(rng: random.Random) -> str:
    return word(rng, rng.choice((1, 2))) + rng.choice(CITY_SUFFIXES)


def birth_date(rng: random.Random) -> str:
    return f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(1921, 1999)}"


def occupation(rng: random.Random) -> str:
    return f"{rng.choice(OCCUPATION_ADJECTIVES)} {rng.choice(OCCUPATION_NOUNS)}"


def genre(rng: random.Random) -> str:
    return f"{rng.choice(GENRE_MOODS)} {rng.choice(GENRE_FORMS)}"


def award(rng: random.Random) -> str:
    return f"{word(rng, 2)} {rng.choice(AWARD_FORMS)}"


def book(rng: random.Random) -> str:
    return f"The {rng.choice(BOOK_ADJECTIVES)} {rng.choice(BOOK_NOUNS)}"


def email(rng: random.Random, name: str) -> str:
    first, last = name.lower().split()
    return f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(MAIL_DOMAINS)}"


def address(rng: random.Random) -> str:
    return f"{rng.randint(2, 98)} {word(rng, 2)} {rng.choice(STREETS)}"


def phone(rng: random.Random) -> str:
    return f"+{rng.randint(30, 49)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
