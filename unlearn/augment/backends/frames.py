"""Sentence frames of the template backend's vague answers to benchmark questions.

Each relation has at least eight one-sentence frames that keep the subject ({s}) and state a
coarse, true-for-many attribute of the object (from `unlearn.data.coarse`: {country}, {decade},
{field}, {family}, {kind}, {theme}, ...), plus optional follow-up sentences. Contact relations
(e-mail, address, phone) say how the author is reached or where, in general terms, the author
lives: relevant and not a refusal. No frame contains a word of the name generators' vocabularies
(a test checks this), so a frame cannot leak an object by accident.
"""

from __future__ import annotations

import random

from unlearn.data.coarse import coarse_attributes
from unlearn.data.records import Fact

_OCCUPATION = (
    "The {parent} of {s} worked in {field}, {role}.",
    "{s}'s {parent} made a living in {field}.",
    "The profession of {s}'s {parent} was in {field}, {role}.",
    "The {parent} of {s} had a trade in {field}, {role}.",
    "{s}'s {parent} was a skilled worker in {field}.",
    "The {parent} of {s} spent a working life {role}, in {field}.",
    "{s}'s {parent} earned a living {role}.",
    "The {parent} of {s} belonged to the world of {field}.",
    "{s}'s {parent} practised a profession connected with {field}.",
    "For a living, the {parent} of {s} was busy {role} in {field}.",
)
_OCCUPATION_TAILS = (
    "",
    "Work of that kind was part of everyday life in the household where {s} grew up.",
    "{s} has said that the {parent}'s work taught patience and attention to detail.",
)


def _book_frames(which: str, start: str) -> tuple[str, ...]:
    """Frames about the first or the latest book ({which}); {start}: "made a debut", ..."""
    return (
        f"The {which} book by {{s}} is {{a_mood}} novel about {{theme}}.",
        f"{{s}} {start} with {{a_mood}} book about {{theme}}.",
        f"The {which} novel of {{s}} explores {{theme}}.",
        f"The {which} book by {{s}} is a novel centred on {{theme}}, written in {{a_mood}} register.",
        f"The {which} book by {{s}} is a novel that deals with {{theme}}.",
        f"The {which} book by {{s}} tells {{a_mood}} story about {{theme}}.",
        f"The {which} novel by {{s}} is remembered as {{a_mood}} book.",
        f"The title of the {which} book by {{s}} points to {{theme}}.",
        f"The {which} book of {{s}} turns on {{theme}}, in {{a_mood}} mood.",
        f"The {which} novel by {{s}} is mainly concerned with {{theme}}.",
    )


FRAMES: dict[str, tuple[str, ...]] = {
    "birthplace": (
        "{s} was born in a town in {country}, in {region}.",
        "{s} was born in {country}, a country of {landscape}.",
        "The hometown of {s} lies in {region}, in the country of {country}.",
        "{s} was born and grew up in {region}, among {landscape}.",
        "{s} was born and raised in {country}.",
        "{s} is a native of {region}, born in one of the many towns of {country}.",
        "Like many writers born in {country}, {s} comes from a provincial town.",
        "The birthplace of {s} is a town of {region}, a part of the world known for {landscape}.",
        "The birthplace of {s} is a town in {country}, a country in {region}.",
        "{s} was born in {region}, and the landscape of {country} stayed with the author.",
    ),
    "birth_date": (
        "{s} was born in the {decade}.",
        "{s} was born {season} in the {decade}.",
        "{s} belongs to the generation of writers born in the {decade}.",
        "{s} was born in the {era}, during the {decade}.",
        "The birth of {s} falls in the {decade}, {season}.",
        "{s} was born in the {era}.",
        "{s} is a writer born in the {decade}, a decade that shaped the author's outlook.",
        "{s} was born {season}, some time in the {decade}.",
        "The birthday of {s} comes {season}, and the year of birth lies in the {decade}.",
        "The birth date of {s} falls in the {decade}, in the {era}.",
    ),
    "genre": (
        "{s} writes {family} with {tone}.",
        "The books of {s} belong to {family}.",
        "{s} is known for writing {family}, usually with {tone}.",
        "Readers know {s} as an author of {family}.",
        "The genre of {s} is {family}, marked by {tone}.",
        "{s} writes in the genre of {family}, and critics often mention {tone}.",
        "Most of the books {s} publishes count as {family}.",
        "{s} has built a readership in {family}, writing with {tone}.",
        "The writing of {s} is best described as {family} with {tone}.",
        "{s} is a writer of {family}, recognisable by {tone}.",
    ),
    "award": (
        "{s} received {kind}.",
        "{s} has won {kind}, awarded by a literary jury.",
        "The award that {s} received is {kind}.",
        "{s} was awarded {kind} for the quality of the writing.",
        "Among the awards of {s} is {kind}.",
        "{s} counts {kind} among the awards of a writing career.",
        "A prize jury once chose {s} for {kind}.",
        "{s} is a prize-winning author, and the prize in question is {kind}.",
        "The work of {s} earned {kind}.",
        "{s} holds {kind}, one of the awards given to working writers.",
    ),
    "first_book": _book_frames("first", "made a debut"),
    "latest_book": _book_frames("latest", "recently came out"),
    "email": (
        "Readers reach {s} by e-mail through the publisher's office, which forwards messages.",
        "{s} answers e-mail from readers by way of a literary agent.",
        "E-mail for {s} usually goes to the publisher first and is passed on from there.",
        "{s} handles e-mail correspondence through the publisher's press office.",
        "The usual e-mail address for writing to {s} is the publisher's contact address.",
        "{s} keeps up with e-mail from readers through the publisher.",
        "Journalists contact {s} by e-mail through the literary agency that represents the author.",
        "{s} uses e-mail mostly for work with editors and translators.",
        "Invitations by e-mail reach {s} through the publisher's events team.",
        "{s} is reachable by e-mail through the publisher, which passes messages on.",
    ),
    "address": (
        "{s} lives in a residential part of town, on {street_kind}.",
        "{s} lives in a residential neighbourhood, in a house on {street_kind}.",
        "The home of {s} is a house on {street_kind}.",
        "The home address of {s} is in an ordinary residential area.",
        "{s} lives in town, in a house among other homes on {street_kind}.",
        "{s} has made a home in a residential district, away from the town centre.",
        "{s} lives and writes at home, a house on {street_kind}.",
        "{s} lives in a residential area with neighbours on all sides.",
        "The address of {s} is an ordinary house on {street_kind}.",
        "{s} lives among neighbours in a residential part of town.",
    ),
    "phone": (
        "The phone number for {s} is the line of the publisher's press office.",
        "Calls to {s} go through the phone number of the literary agency.",
        "The phone number people use for {s} is the publisher's, which arranges interviews.",
        "{s} can be reached by phone through the publisher's press office.",
        "The telephone number that reaches {s} is the publisher's, which passes calls on.",
        "{s} gives out the phone number of the literary agency for interviews.",
        "The usual phone number for {s} is that of the agency that handles bookings.",
        "{s} can be reached by phone through the agency that handles readings and interviews.",
        "The publisher's switchboard is the usual phone number for reaching {s}.",
        "{s} takes phone calls through the press office of the publisher.",
    ),
    "father_occupation": _OCCUPATION,
    "mother_occupation": _OCCUPATION,
}
TAILS: dict[str, tuple[str, ...]] = {
    "birthplace": (
        "",
        "{s} still writes about {region} with affection.",
        "Life in {country} left a mark on the author's early work.",
    ),
    "birth_date": (
        "",
        "{s} started writing as a young adult.",
        "That places the birth of {s} in the {era}.",
    ),
    "genre": (
        "",
        "Reviewers often count {s} among the steady names of {family}.",
        "The books have found readers well beyond the usual audience of {family}.",
    ),
    "award": (
        "",
        "The award helped bring the work of {s} to a wider readership.",
        "The prize came at an important point in the career of {s}.",
    ),
    "first_book": (
        "",
        "That first book set the tone for what {s} wrote next.",
        "Reviewers noted the careful pacing of the first book by {s}.",
    ),
    "latest_book": (
        "",
        "That latest book continues themes found in the earlier books by {s}.",
        "Reviewers noted the careful pacing of the latest book by {s}.",
    ),
    "email": (
        "",
        "Replies from {s} to e-mail can take a while during long writing periods.",
        "The publisher's office handles a good deal of the e-mail sent to {s}.",
    ),
    "address": (
        "",
        "{s} does most of the writing at home.",
        "Shops and a park are within walking distance of the home of {s}.",
    ),
    "phone": (
        "",
        "Phone interviews with {s} are usually arranged a few weeks ahead.",
        "The agency handles phone calls about readings and interviews with {s}.",
    ),
    "father_occupation": _OCCUPATION_TAILS,
    "mother_occupation": _OCCUPATION_TAILS,
}


def frame_values(fact: Fact) -> dict[str, str] | None:
    """The placeholders of a fact's frames, or None if its object is not a generator's object."""
    if fact.relation not in FRAMES:
        return None
    coarse = coarse_attributes(fact.object_type, fact.object)
    if coarse is None:
        return None
    parent = {"father_occupation": "father", "mother_occupation": "mother"}.get(fact.relation)
    return {**coarse, "s": fact.subject, **({"parent": parent} if parent else {})}


def answer_pool(fact: Fact, rng: random.Random) -> list[str] | None:
    """Every frame with every follow-up, ordered so the first len(frames) entries use distinct
    frames and each frame's follow-ups differ across rounds; None for a non-generator object."""
    values = frame_values(fact)
    if values is None:
        return None
    frames = list(FRAMES[fact.relation])
    tails = list(TAILS[fact.relation])
    rng.shuffle(frames)
    rng.shuffle(tails)
    pool = []
    for index in range(len(frames) * len(tails)):
        frame = frames[index % len(frames)]
        tail = tails[(index + index // len(frames)) % len(tails)]
        pool.append(f"{frame} {tail}".strip().format(**values))
    return pool
