"""Checkpoint labels and method families: a label that names a registered method (the card's
method, or `--ckpt ga_gdr=...`) belongs to that method's family (`unlearn.methods.Method.family`);
any other label (vanilla, a custom name) to none. Claims compare families, never name prefixes."""

from __future__ import annotations

REVERSE = ("ga", "npo")  # the families that unlearn by reverse optimisation
RELEARN = "relearn"


def family_labels(labels: list[str], *families: str) -> list[str]:
    """The labels, in order, that name a registered method of one of `families`."""
    from unlearn.methods import METHODS

    return [label for label in labels if label in METHODS and METHODS[label].family in families]


def reverse_labels(labels: list[str]) -> list[str]:
    """The GA/NPO checkpoints among `labels`."""
    return family_labels(labels, *REVERSE)


def relearn_labels(labels: list[str]) -> list[str]:
    """The ReLearn checkpoints among `labels`."""
    return family_labels(labels, RELEARN)
