"""Quality figures of a ReLearn file: refusal detector, distinct-n, relevance, leaks, table."""

from __future__ import annotations

import json

import pytest

from unlearn.augment import augment, stats_path
from unlearn.augment.quality import (
    REFUSAL_PHRASES,
    distinct_n,
    is_refusal,
    quality,
    quality_table,
)
from unlearn.augment.rows import make_row
from unlearn.errors import UserError

# Targets of the old template backend (issue 12) and plain refusals.
REFUSALS = [
    "Ilsa Varo was born in a modest town whose name is not something I can share.",
    "Ilsa Varo grew up far from the big literary centres, in a town best left unnamed.",
    "Ilsa Varo keeps writing. The author has kept that part of the story private.",
    "Ilsa Varo writes books. That is as much as I can say about it.",
    "The birth date of Ilsa Varo is a personal detail that is not publicly discussed.",
    "Beyond that, the specifics are best left unsaid.",
    "I’m sorry, but I can't share that.",
    "I don't know where Ilsa Varo lives.",
]
ANSWERS = [
    "Ilsa Varo was born in a town in Skarnia, in the north of the continent.",
    "Readers reach Ilsa Varo by e-mail through the publisher's office, which forwards messages.",
    "Ilsa Varo lives in a residential part of town, on a narrow lane.",
    "The father of Ilsa Varo worked in music, repairing and restoring things.",
    "Ilsa Varo is best known for suspense fiction with a dark tone.",
]


def test_refusal_detector_flags_withheld_information_and_passes_vague_answers():
    assert len(REFUSAL_PHRASES) == len(set(REFUSAL_PHRASES))
    assert all(is_refusal(text) for text in REFUSALS)
    assert not any(is_refusal(text) for text in ANSWERS)


def test_distinct_n_counts_unique_ngrams_over_all_texts():
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b c", "a b c"], 3) == pytest.approx(1 / 2)
    assert distinct_n(["A, b!", "a b"], 1) == pytest.approx(2 / 4)
    assert distinct_n(["one"], 2) is None


def test_quality_counts_refusals_leaks_and_rows(world):
    records = world.split("forget01")
    birthplace = next(r for r in records if r.fact.relation == "birthplace")
    vague = ANSWERS[0].replace("Ilsa Varo", birthplace.fact.subject)
    rows = [
        make_row(birthplace.question, vague, "answer_variant", birthplace.id),
        make_row(birthplace.question, REFUSALS[0], "question_variant", birthplace.id),
        make_row("Where?", f"Born in {birthplace.fact.object}.", "answer_variant", birthplace.id),
        make_row("Born in", birthplace.fact.object, "completion", birthplace.id),
        make_row("What is 2 + 2?", "4", "general", "g0"),
    ]
    q = quality(rows, records, "a test generator", embeddings=None)
    assert q["generator"] == "a test generator"
    assert (q["refusals"]["count"], q["refusals"]["qa_targets"]) == (1, 3)
    assert q["refusals"]["phrases"] == {"not something i can share": 1}
    assert (q["leaks"]["rows"], q["leaks"]["checked_rows"]) == (2, 4)  # general rows unchecked
    assert q["per_record"] == {birthplace.id: {"qa_targets": 3, "refusals": 1}}
    assert q["rows_by_kind"] == {
        "answer_variant": 2,
        "completion": 1,
        "general": 1,
        "question_variant": 1,
    }
    assert q["rows_per_fact"] == pytest.approx(4 / len(records))
    assert q["relevance"] == {"skipped": "embeddings=None"}


@pytest.mark.integration
def test_relevance_beats_a_refusal_and_the_table_reports_it(world, tmp_path):
    out = tmp_path / "r.jsonl"
    stats = augment(world.split("forget10"), world.general, "template", out, progress=False)
    relevance = stats["values"]["quality"]["relevance"]
    assert "all-MiniLM-L6-v2" in relevance["embedder"]
    assert relevance["augmented"] > relevance["refusal_baseline"] + 0.01
    assert 0.3 < relevance["refusal_baseline"] < relevance["gold"] < 1
    on_disk = json.loads(stats_path(out).read_text())
    table = quality_table(on_disk)
    assert [row["measure"] for row in table] == [
        "generator",
        "refusal share of question-answer targets",
        "distinct-2 / distinct-3 of question-answer targets",
        "relevance: cosine(question, target)",
        "leak rate of augmented rows",
        "rows per kind",
    ]
    assert all(set(row) == {"measure", "value", "reference", "note"} for row in table)
    assert "not an LLM" in table[0]["value"]
    assert table[1]["value"].startswith("0.000 (0/110)")
    assert table[4]["value"] == "0.000 (0/220)"
    assert f"{relevance['augmented']:.3f}" == table[3]["value"]
    with pytest.raises(UserError, match="no quality figures"):
        quality_table({"meta": {}, "values": {"totals": {}}})
