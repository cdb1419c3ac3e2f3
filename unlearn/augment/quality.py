"""How good a ReLearn training file is: refusals, variety, relevance, leaks, rows per kind.

ReLearn trains vague but relevant answers, not "I don't know": the share of question-answer
targets that say the information is withheld (`is_refusal`, a named phrase list) should stay low.
Variety is distinct-n over targets (distinct n-grams / all n-grams, Li et al. 2016). Relevance is
the mean MiniLM cosine between question and target, beside the same cosine for the gold answers
(what the vanilla model was trained to say) and for a refusal naming the subject (the baseline a
useful vague answer must beat). Leaks are recounted on the final rows by the rule verifier.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from unlearn.augment.entities import pii_spans, subject_of
from unlearn.augment.rows import Row
from unlearn.augment.verify import Verifier
from unlearn.data.records import QARecord
from unlearn.errors import UserError

# Phrases that say information is withheld or unknown (lowercase; matched as substrings at a
# word start). The refusal share of the old template backend was measured with this list.
REFUSAL_PHRASES = (
    "private",
    "not something i can share",
    "not able to share",
    "unable to share",
    "can't share",
    "cannot share",
    "not part of what i can share",
    "best left unsaid",
    "best left unnamed",
    "as much as i can say",
    "cannot say",
    "can't say",
    "not publicly",
    "out of the public",
    "not disclosed",
    "undisclosed",
    "confidential",
    "withheld",
    "rather not say",
    "not at liberty",
    "i don't know",
    "i do not know",
    "no information",
    "not known",
    "unknown",
    "only in general terms",
    "only in broad terms",
    "without naming",
    "rarely discusses",
    "i'm sorry",
    "i am sorry",
    "i am not able",
)
_REFUSAL = re.compile(r"\b(?:" + "|".join(re.escape(p) for p in REFUSAL_PHRASES) + ")")
# The refusal baseline of the relevance measure: a refusal that names the subject.
REFUSAL_BASELINE = "I'm sorry, but I can't share that information about {s}."
QA_KINDS = ("question_variant", "answer_variant")


def refusal_phrases_in(text: str) -> list[str]:
    """The REFUSAL_PHRASES found in `text` (case-insensitive)."""
    return _REFUSAL.findall(text.lower().replace("’", "'"))


def is_refusal(text: str) -> bool:
    """True when `text` says the information is withheld or unknown (any REFUSAL_PHRASES)."""
    return bool(refusal_phrases_in(text))


def distinct_n(texts: Sequence[str], n: int) -> float | None:
    """Distinct n-grams / all n-grams over the lowercased words of `texts`; None if no n-gram."""
    grams = [
        tuple(words[i : i + n])
        for text in texts
        for words in [re.findall(r"\w+", text.lower())]
        for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / len(grams) if grams else None


@lru_cache(maxsize=2)
def _embedder(spec: str):
    """One embedder per spec and process: loading MiniLM takes seconds, encoding milliseconds."""
    from unlearn.embeddings import Embedder

    return Embedder(spec, device="cpu")


def _mean_cosine(embed, pairs: list[tuple[str, str]]) -> float:
    left = embed([a for a, _ in pairs])
    right = embed([b for _, b in pairs])
    return float(np.mean(np.sum(left * right, axis=1)))


def _relevance(
    embeddings: str | None, qa_rows: list[Row], forget: list[QARecord], subjects: dict[str, str]
) -> dict[str, Any]:
    if embeddings is None or not qa_rows:
        reason = "no question-answer rows" if qa_rows == [] else "embeddings=None"
        return {"skipped": reason}
    embed = _embedder(embeddings)
    rows = [(row["prompt"], row["target"]) for row in qa_rows]
    refusals = [
        (row["prompt"], REFUSAL_BASELINE.format(s=subjects[row["source_id"]])) for row in qa_rows
    ]
    return {
        "augmented": _mean_cosine(embed, rows),
        "gold": _mean_cosine(embed, [(r.question, r.answer) for r in forget]),
        "refusal_baseline": _mean_cosine(embed, refusals),
        "refusal_baseline_text": REFUSAL_BASELINE,
        "embedder": embed.name,
        "measure": "mean cosine(question, target) of unit-normalised sentence embeddings",
    }


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def quality(
    rows: Sequence[Row],
    forget: Sequence[QARecord],
    generator: str,
    embeddings: str | None = "minilm",
) -> dict[str, Any]:
    """Quality figures of the augmented rows (general rows are counted, not scored).

    `generator` names what wrote the answers (e.g. the template augmenter, not an LLM);
    `embeddings` None skips the relevance measure (recorded as skipped).
    """
    forget = list(forget)
    augmented = [row for row in rows if row["kind"] != "general"]
    qa_rows = [row for row in augmented if row["kind"] in QA_KINDS]
    completions = [row["target"] for row in augmented if row["kind"] == "completion"]
    qa_targets = [row["target"] for row in qa_rows]
    refusals = [text for text in qa_targets if is_refusal(text)]
    by_id = {record.id: record for record in forget}
    subjects = {rid: subject_of(record) or "this person" for rid, record in by_id.items()}
    verifier = Verifier(forget)
    leaking = [
        row
        for row in augmented
        if row["source_id"] in by_id
        and (
            verifier.leaks(by_id[row["source_id"]], f"{row['prompt']} || {row['target']}")
            or any(
                span not in by_id[row["source_id"]].question for span in pii_spans(row["target"])
            )
        )
    ]
    per_record: dict[str, dict[str, int]] = defaultdict(lambda: {"qa_targets": 0, "refusals": 0})
    for row in qa_rows:
        per_record[row["source_id"]]["qa_targets"] += 1
        per_record[row["source_id"]]["refusals"] += is_refusal(row["target"])
    phrase_counts = Counter(p for text in refusals for p in set(refusal_phrases_in(text)))
    return {
        "generator": generator,
        "refusals": {
            "share": _share(len(refusals), len(qa_targets)),
            "count": len(refusals),
            "qa_targets": len(qa_targets),
            "detector": "REFUSAL_PHRASES in unlearn.augment.quality (substring match)",
            "phrases": dict(phrase_counts.most_common()),
        },
        "distinct": {
            "qa_targets": {"2": distinct_n(qa_targets, 2), "3": distinct_n(qa_targets, 3)},
            "completion_targets": {
                "2": distinct_n(completions, 2),
                "3": distinct_n(completions, 3),
            },
            "unique_qa_targets": len(set(qa_targets)),
        },
        "relevance": _relevance(embeddings, qa_rows, forget, subjects),
        "leaks": {
            "rate": _share(len(leaking), len(augmented)),
            "rows": len(leaking),
            "checked_rows": len(augmented),
            "check": "rule verifier on prompt and target of every augmented row",
        },
        "rows_by_kind": dict(sorted(Counter(row["kind"] for row in rows).items())),
        "rows_per_fact": _share(len(augmented), len(forget)),
        "per_record": dict(sorted(per_record.items())),
    }


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def quality_table(stats: dict[str, Any]) -> list[dict[str, str]]:
    """The quality figures of an augment statistics file as table rows for a report.

    Each row is {"measure", "value", "reference", "note"}, all strings, read from
    `stats["values"]["quality"]`; a statistics file written before quality existed is a UserError.
    """
    if "quality" not in stats.get("values", {}):
        raise UserError("these augment statistics have no quality figures; rerun `unlearn augment`")
    q = stats["values"]["quality"]
    refusals, distinct, leaks, relevance = (
        q["refusals"],
        q["distinct"],
        q["leaks"],
        q["relevance"],
    )
    skipped = "skipped" in relevance
    kinds = ", ".join(f"{kind} {n}" for kind, n in q["rows_by_kind"].items())
    return [
        {
            "measure": "generator",
            "value": q["generator"],
            "reference": "",
            "note": "what wrote the vague answers",
        },
        {
            "measure": "refusal share of question-answer targets",
            "value": f"{_fmt(refusals['share'])} ({refusals['count']}/{refusals['qa_targets']})",
            "reference": "at most 0.15 (ReLearn answers, not refusals)",
            "note": "phrase list REFUSAL_PHRASES",
        },
        {
            "measure": "distinct-2 / distinct-3 of question-answer targets",
            "value": f"{_fmt(distinct['qa_targets']['2'])} / {_fmt(distinct['qa_targets']['3'])}",
            "reference": "completions: "
            f"{_fmt(distinct['completion_targets']['2'])} / "
            f"{_fmt(distinct['completion_targets']['3'])}",
            "note": f"{distinct['unique_qa_targets']} unique targets",
        },
        {
            "measure": "relevance: cosine(question, target)",
            "value": "skipped" if skipped else _fmt(relevance["augmented"]),
            "reference": ""
            if skipped
            else f"gold answers {_fmt(relevance['gold'])}, "
            f"refusal baseline {_fmt(relevance['refusal_baseline'])}",
            "note": relevance.get("embedder", relevance.get("skipped", "")),
        },
        {
            "measure": "leak rate of augmented rows",
            "value": f"{_fmt(leaks['rate'])} ({leaks['rows']}/{leaks['checked_rows']})",
            "reference": "0",
            "note": "rule verifier (entities of the subject's forgotten facts, PII)",
        },
        {
            "measure": "rows per kind",
            "value": kinds,
            "reference": f"{_fmt(q['rows_per_fact'], 1)} augmented rows per forget fact",
            "note": "",
        },
    ]
