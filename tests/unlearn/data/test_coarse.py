"""The coarse-attribute table: complete over the generator's pieces, coarse, and leak-free."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from unlearn.data import coarse, names
from unlearn.data.coarse import coarse_attributes

# Words of the generator vocabularies that name a kind of thing, not an object (as in the verifier).
GENERIC = {"the", "for", "prize", "medal", "award", "laurel", "fiction", "poetry", "literature"}
GENERIC |= {"writing", "novels", "stories", "book", "lane", "street", "road", "row", "close"}
GENERIC |= {"terrace", "org", "com", "net", "io"}

PIECES = {
    "COUNTRY_OF_SUFFIX": (coarse.COUNTRY_OF_SUFFIX, names.CITY_SUFFIXES),
    "FIELD_OF_OCCUPATION": (coarse.FIELD_OF_OCCUPATION, names.OCCUPATION_ADJECTIVES),
    "ROLE_OF_OCCUPATION": (coarse.ROLE_OF_OCCUPATION, names.OCCUPATION_NOUNS),
    "TONE_OF_GENRE": (coarse.TONE_OF_GENRE, names.GENRE_MOODS),
    "FAMILY_OF_GENRE": (coarse.FAMILY_OF_GENRE, names.GENRE_FORMS),
    "KIND_OF_AWARD": (coarse.KIND_OF_AWARD, names.AWARD_FORMS),
    "MOOD_OF_BOOK": (coarse.MOOD_OF_BOOK, names.BOOK_ADJECTIVES),
    "THEME_OF_BOOK": (coarse.THEME_OF_BOOK, names.BOOK_NOUNS),
    "PART_OF_YEAR": (coarse.PART_OF_YEAR, names.MONTHS),
    "KIND_OF_STREET": (coarse.KIND_OF_STREET, names.STREETS),
}


def vocabulary_words() -> set[str]:
    """Every word the name generators can put into an object, minus the generic ones."""
    pieces = [
        *names.CITY_SUFFIXES,
        *names.OCCUPATION_ADJECTIVES,
        *names.OCCUPATION_NOUNS,
        *names.GENRE_MOODS,
        *names.GENRE_FORMS,
        *names.AWARD_FORMS,
        *names.BOOK_ADJECTIVES,
        *names.BOOK_NOUNS,
        *names.MONTHS,
        *names.MAIL_DOMAINS,
        *names.STREETS,
    ]
    words = {w.lower() for piece in pieces for w in re.findall(r"[A-Za-z]+", piece)}
    return words - GENERIC


def coarse_texts() -> list[str]:
    tables = [table for table, _ in PIECES.values()]
    tables += [coarse.REGION_OF_COUNTRY, coarse.LANDSCAPE_OF_COUNTRY]
    return [text for table in tables for text in table.values()]


@pytest.mark.parametrize("table_name", PIECES)
def test_every_generator_piece_has_exactly_one_entry(table_name):
    table, pieces = PIECES[table_name]
    assert set(table) == set(pieces), set(pieces) ^ set(table)


def test_countries_have_a_region_and_a_landscape():
    countries = set(coarse.COUNTRY_OF_SUFFIX.values())
    assert countries == set(coarse.REGION_OF_COUNTRY) == set(coarse.LANDSCAPE_OF_COUNTRY)


@pytest.mark.parametrize(
    "table_name",
    [
        "COUNTRY_OF_SUFFIX",
        "FIELD_OF_OCCUPATION",
        "ROLE_OF_OCCUPATION",
        "TONE_OF_GENRE",
        "FAMILY_OF_GENRE",
        "MOOD_OF_BOOK",
        "THEME_OF_BOOK",
        "PART_OF_YEAR",
    ],
)
def test_each_coarse_value_covers_several_pieces(table_name):
    """A value shared by two or more pieces cannot single one out."""
    table, _ = PIECES[table_name]
    assert min(Counter(table.values()).values()) >= 2, Counter(table.values())


def test_no_coarse_text_repeats_a_generator_word():
    vocabulary = vocabulary_words()
    assert {"ford", "clock", "maker", "gothic", "storytelling", "lantern", "may"} <= vocabulary
    for text in coarse_texts():
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", text)}
        assert not words & vocabulary, (text, words & vocabulary)


def test_coarse_attributes_of_generated_objects():
    assert coarse_attributes("city", "Bazorford") == {
        "country": "Brennland",
        "region": "the west of the continent",
        "landscape": "farmland and slow rivers",
    }
    assert coarse_attributes("date", "3 March 1957") == {
        "decade": "1950s",
        "era": "mid twentieth century",
        "season": "early in the year",
    }
    assert coarse_attributes("date", "28 December 1999")["era"] == "late twentieth century"
    assert coarse_attributes("occupation", "clock maker") == {
        "field": "precision instruments",
        "role": "producing goods by hand",
    }
    assert coarse_attributes("genre", "gothic mystery novels") == {
        "family": "suspense fiction",
        "tone": "a dark tone",
    }
    assert coarse_attributes("award", "Quarin Award for Storytelling") == {
        "kind": "an award for narrative craft"
    }
    assert coarse_attributes("book", "The Amber Lantern") == {
        "theme": "work, craft and invention",
        "mood": "richly coloured",
        "a_mood": "a richly coloured",
    }
    assert coarse_attributes("book", "The Iron Atlas")["a_mood"] == "an austere"
    assert coarse_attributes("address", "12 Varo Close") == {"street_kind": "a small cul-de-sac"}
    assert coarse_attributes("email", "a.b1@inkpost.net") == {}


@pytest.mark.parametrize(
    "object_type, obj",
    [
        ("city", "Paris"),
        ("date", "1957"),
        ("occupation", "astronaut"),
        ("genre", "gothic memoirs"),
        ("award", "Nobel Prize"),
        ("book", "War and Peace"),
        ("address", "Flat 3"),
        ("planet", "Mars"),
    ],
)
def test_objects_the_generator_does_not_make_have_no_coarse_attributes(object_type, obj):
    assert coarse_attributes(object_type, obj) is None


def test_every_object_of_a_world_has_coarse_attributes(world):
    for author in world.authors:
        for fact in author.triples():
            assert coarse_attributes(fact.object_type, fact.object) is not None, fact
