"""The reference's tokens for W and R: NLTK treebank tokens of the lower-cased text, and the
one documented difference."""

from __future__ import annotations

from unlearn.eval.metrics.tokens import word_tokens


def test_word_tokens_are_nltk_treebank_tokens_of_the_lower_cased_text():
    assert word_tokens("Ada's e-mail is ada.b7@ink.net, I think.") == [
        "ada",
        "'s",
        "e-mail",
        "is",
        "ada.b7",
        "@",
        "ink.net",
        ",",
        "i",
        "think",
        ".",
    ]
    # sentences are split first, so an internal full stop is its own token, as in word_tokenize
    assert word_tokens("She lives in Paris. She writes.") == [
        "she", "lives", "in", "paris", ".", "she", "writes", ".",
    ]  # fmt: skip


def test_the_one_documented_difference_untrained_punkt_splits_after_abbreviations():
    # the trained English punkt_tab knows "dr." (one token there); untrained Punkt does not
    assert word_tokens("Dr. Smith wrote.") == ["dr", ".", "smith", "wrote", "."]
