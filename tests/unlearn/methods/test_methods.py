"""The method registry (`unlearn.methods`): every method declares its family, its retain terms
and its data, and an unknown name is one line listing the valid ones."""

from __future__ import annotations

import pytest

from unlearn.errors import UserError
from unlearn.methods import FAMILIES, METHODS, SFT, get_method


def test_every_method_declares_its_family_and_variants():
    assert {method.family for method in METHODS.values()} == {"ga", "npo", "relearn"}
    assert SFT.family == "sft" and set(FAMILIES) == {"ga", "npo", "relearn", "sft"}
    npo = get_method("npo_klr_sure")
    assert (npo.family, npo.retain_terms, npo.sure, npo.needs_reference) == (
        "npo",
        ("kl",),
        True,
        True,
    )
    relearn = get_method("relearn")
    assert (relearn.family, relearn.data, relearn.retain_terms) == (
        "relearn",
        "relearn",
        ("ce", "kl"),
    )
    assert all(m.data == "forget" for m in METHODS.values() if m.family in ("ga", "npo"))


def test_an_unknown_method_lists_the_valid_ones():
    with pytest.raises(UserError, match="unknown method 'sft'; valid methods: ga, ga_sure, "):
        get_method("sft")  # the vanilla objective is not an unlearning method
