"""Rule-based mentions: what an answer states, by kind, with one comparison key per date in
any usual format."""

from __future__ import annotations

from unlearn.recall.mentions import mentions


def test_mentions_by_kind():
    text = (
        'Lena Ortiz, born on 3 May 1961, lives at 14 Calle Sierpes and wrote "Glass Rivers"; '
        "write to lena.ortiz@andaluzmail.es or call +34 955 123 456. She won the Cervantes Prize."
    )
    found = {(m.text, m.kind) for m in mentions(text)}
    assert found == {
        ("Lena Ortiz", "name"),
        ("3 May 1961", "date"),
        ("14 Calle Sierpes", "address"),
        ("Glass Rivers", "title"),
        ("lena.ortiz@andaluzmail.es", "email"),
        ("+34 955 123 456", "phone"),
        ("Cervantes Prize", "award"),
    }


def test_dates_in_any_usual_format_share_a_key():
    keys = {
        m.key
        for text in (
            "on the 25th of February in the year 1958",
            "on February 25, 1958",
            "on 25 February 1958",
            "on 25/02/1958",
            "on 1958-02-25",
        )
        for m in mentions(text)
    }
    assert keys == {"date:1958-02-25"}
