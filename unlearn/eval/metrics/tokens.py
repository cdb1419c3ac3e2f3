"""Lower-cased word tokens for the lexical metrics.

The ReLearn reference code uses NLTK's `word_tokenize`, whose models cannot be downloaded here;
this regex approximates it: words (keeping inner dots, hyphens and @, so "a.b@c.org" and "3.5"
stay whole), clitics such as "'s" split off, and every other punctuation mark as its own token.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"\w+(?:[.\-@]\w+)*|'\w+|[^\w\s]")


def word_tokens(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens of `text`."""
    return TOKEN.findall(text.lower())
