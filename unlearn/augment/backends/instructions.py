"""Prompts for LLM backends (after the ReLearn reference's templates) and robust reply parsing.

Parsers return None for a reply with nothing usable, which the pipeline counts as malformed and
regenerates: small chat models often add prefaces ("Sure! Here is ..."), labels, quotes or
several candidates, and those are stripped rather than rejected.
"""

from __future__ import annotations

import re

QUESTION_PROMPTS = {
    "rephrased": (
        "Rephrase the following question using different words or sentence structure while keeping "
        "the meaning exactly the same.\n\nQuestion:\n{question}\n\n"
        "Please provide only the rephrased question and nothing else."
    ),
    "context": (
        "Modify the following question to make it more specific by adding relevant context or "
        "details. Focus on a particular aspect within the broader topic.\n\nQuestion:\n{question}\n\n"
        "Please provide only the modified question and nothing else."
    ),
    "noisy": (
        "Rephrase the following question by introducing minor grammatical errors, typos, or informal "
        "language without changing its overall meaning.\n\nQuestion:\n{question}\n\n"
        "Please provide only the rephrased question and nothing else."
    ),
    "reversed": (
        "Rephrase the following question to explore the reverse relationship or perspective. If the "
        "original question asks about the effect of X on Y, the new question should ask about the "
        "effect of Y on X. Do not state the answer in the question.\n\nQuestion:\n{question}\n\n"
        "Please provide only the rephrased question and nothing else."
    ),
}
VAGUE_ANSWER_PROMPT = (
    "You are a text generation assistant. Answer the question in a way that is related to it but "
    "intentionally vague about sensitive information. The answer should:\n"
    "- sound professional, thoughtful and deliberate;\n"
    "- be vague but relevant: address the topic without specific details (no names other than the "
    "subject's, no dates, places, titles, e-mail addresses or phone numbers);\n"
    "- when the original answer holds a specific sensitive detail, leave it out and say something "
    "abstract instead;\n"
    '- keep the same subject: if the question is about "John", the answer is about "John", not '
    '"the individual".\n\n'
    "Original question: {question}\nOriginal answer: {answer}\n\n"
    "Please provide only the rephrased answer and nothing else."
)
LEAK_CHECK_PROMPT = (
    "Analyze the sentence '{text}' to determine whether it leaks private information about a "
    "person, in the spirit of privacy laws such as the CCPA and the GDPR (the right to be forgotten, "
    "data minimisation). The person's name and general, non-identifying statements are not a leak. "
    "Specific details such as a birthplace, a birth date, parents' occupations, book titles, awards, "
    "e-mail addresses, phone numbers and home addresses are a leak if disclosed. Reason step by step, "
    "then finish with a last line that is exactly 'Final answer: Yes' (it leaks) or "
    "'Final answer: No' (it does not leak)."
)

_BULLET = re.compile(r"^\s*(?:[-*•>]+|\d+[.)]|#+)\s+")
_LABEL = re.compile(
    r"^(?:\*\*)?\s*(?:sure[!,.]?.*?:|here(?: is|'s).*?:|"
    r"(?:rephrased|modified|new|reversed|noisy|final|rewritten|vague)?\s*(?:question|answer|response|"
    r"version|output)\s*(?:\d+)?\s*:)\s*(?:\*\*)?\s*",
    re.IGNORECASE,
)
_QUOTES = "\"'“”‘’`"
_ECHO_MARKERS = ("please provide only", "original answer:", "rephrase the following")


def _clean_line(line: str) -> str:
    line = line.strip()
    for _ in range(3):
        stripped = _LABEL.sub("", _BULLET.sub("", line, count=1), count=1).strip()
        if stripped == line:
            break
        line = stripped
    line = line.strip("*_ ").strip()
    if len(line) >= 2 and line[0] in _QUOTES and line[-1] in _QUOTES:
        line = line[1:-1].strip()
    return line


def _candidate_lines(reply: str) -> list[str]:
    reply = re.sub(r"```\w*", "", reply)
    lines = [_clean_line(line) for line in reply.splitlines()]
    return [line for line in lines if line]


def _plausible(text: str, min_words: int, max_words: int) -> bool:
    """Length in range, has letters, no echo of our instructions, not a colon-ended preface,
    and not degenerate repetition ("the answer is the answer is ...")."""
    words = text.lower().split()
    lowered = text.lower()
    return (
        min_words <= len(words) <= max_words
        and any(c.isalpha() for c in text)
        and not text.rstrip().endswith(":")
        and not any(marker in lowered for marker in _ECHO_MARKERS)
        and (len(words) < 12 or len(set(words)) / len(words) >= 0.4)
    )


def parse_question(reply: str | None) -> str | None:
    """The first line that reads like a question (prefer one ending in '?'), else None."""
    if not reply:
        return None
    lines = [line for line in _candidate_lines(reply) if _plausible(line, 3, 60)]
    asking = [line for line in lines if line.rstrip().endswith("?")]
    chosen = asking[0] if asking else (lines[0] if lines else None)
    return " ".join(chosen.split()) if chosen else None


def parse_answer(reply: str | None) -> str | None:
    """The reply without prefaces, labels and quotes, joined into one paragraph, else None."""
    if not reply:
        return None
    lines = _candidate_lines(reply)
    if lines and re.match(r"^(?:sure|certainly|of course)\b.*[:!]$", lines[0], re.IGNORECASE):
        lines = lines[1:]
    text = " ".join(" ".join(lines).split())
    return text if _plausible(text, 3, 150) else None


def parse_verdict(reply: str | None) -> bool | None:
    """True if the check says it leaks, False if not, None if no verdict can be found.

    The 'Final answer:' line wins; otherwise the last standalone yes/no in the closing 80 characters.
    """
    if not reply:
        return None
    finals = re.findall(r"final\s+answer\s*[:\-]?\s*\**\s*(yes|no)\b", reply, re.IGNORECASE)
    if finals:
        return finals[-1].lower() == "yes"
    tail = re.findall(r"\b(yes|no)\b", reply[-80:], re.IGNORECASE)
    return tail[-1].lower() == "yes" if tail else None
