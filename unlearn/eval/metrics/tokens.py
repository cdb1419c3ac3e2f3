"""Lower-cased word tokens for the lexical metrics, made as NLTK's `word_tokenize` makes them.

The ReLearn reference code calls `nltk.word_tokenize(text.lower())`: a Punkt sentence split, then
NLTK's Treebank-style `NLTKWordTokenizer` on each sentence. The word tokenizer needs no data, but
the trained English Punkt parameters (`punkt_tab`) are an `nltk.download`, which is not available
offline. So the sentences are split by NLTK's Punkt algorithm with its default, untrained
parameters. What remains different from the reference: the trained model knows common
abbreviations, so "dr. smith" and "the u.s. army" are one sentence there (tokens "dr.", "u.s.")
but two here ("dr", ".", "smith"; "u.s", ".", "army"); its learned orthographic statistics can
also place a few breaks after numbers and initials differently. Without any sentence split every
internal full stop would stay glued to its word ("paris." instead of "paris", "."), which is why
the untrained split is used rather than none.
"""

from __future__ import annotations

import nltk
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer

SENTENCES = PunktSentenceTokenizer()  # untrained parameters: no download needed
WORDS = NLTKWordTokenizer()  # what `word_tokenize` runs on each sentence
TOKENIZER = (
    f"nltk {nltk.__version__} word tokens of the lower-cased text: NLTKWordTokenizer per sentence, "
    "sentences split by untrained Punkt (the reference's word_tokenize uses the trained punkt_tab)"
)


def word_tokens(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens of `text` (`word_tokenize(text.lower())`)."""
    return [
        token for sentence in SENTENCES.tokenize(text.lower()) for token in WORDS.tokenize(sentence)
    ]
