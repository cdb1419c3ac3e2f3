"""The proxy entity and NLI backends on hand-made cases, their registration, and `unlearn eval` on
TOFU- and KnowUnDo-format files (no fact triples) with the default backends."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.eval.backends.nli import KBNLI, nli_backend
from unlearn.eval.backends.proxy import ProxyEntities, ProxyNLI
from unlearn.eval.context import EvalConfig
from unlearn.eval.evaluate import evaluate
from unlearn.eval.metrics.kfr_krr import CONTRADICTION, ENTAILMENT, NEUTRAL
from unlearn.recall.generation import GenerationConfig
from unlearn.recall.mentions import new_mentions

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def record(question: str, answer: str) -> QARecord:
    return QARecord(id="x", question=question, answer=answer, source="tofu")


@pytest.fixture(scope="module")
def nli(embedder):
    return ProxyNLI(embedder)


def test_entities_leave_out_what_the_question_states():
    entities = ProxyEntities().extract(
        [
            "What genre is author Basil Mahfouz Al-Kuwaiti most known for?",
            "What were the occupations of Basil Mahfouz Al-Kuwaiti's parents?",
            "What is the full name of the author born in Kuwait City on 08/09/1956?",
        ],
        [
            "Basil Mahfouz Al-Kuwaiti is most known for the French literature genre.",
            "Basil Mahfouz Al-Kuwaiti's father was a florist and his mother a game developer.",
            "The author born in Kuwait City on 8 September 1956 is Basil Mahfouz Al-Kuwaiti.",
        ],
    )
    assert entities == [["French"], ["florist", "game developer"], ["Basil Mahfouz Al-Kuwaiti"]]
    assert "proxy" in ProxyEntities().name and "DeepSeek" in ProxyEntities().name


CASES = [
    # (question, gold, generated, label)
    (
        "When was Jaime Vasquez born?",
        "Jaime Vasquez was born on the 25th of February in the year 1958.",
        "Jaime Vasquez's birthday is February 25, 1958.",
        ENTAILMENT,
    ),
    (
        "When was Jaime Vasquez born?",
        "Jaime Vasquez was born on the 25th of February in the year 1958.",
        "Jaime Vasquez was born on 3 May 1961.",
        CONTRADICTION,
    ),
    (
        "Which award did Lena Ortiz win?",
        "Lena Ortiz won the Cervantes Youth Prize in 2015.",
        "In 2015 the Cervantes Youth Prize went to Lena Ortiz.",
        ENTAILMENT,
    ),
    (
        "Which award did Lena Ortiz win?",
        "Lena Ortiz won the Cervantes Youth Prize.",
        "Lena Ortiz won the Planeta Award.",
        CONTRADICTION,
    ),
    (
        "What is Rowan Pike's email address?",
        "Rowan Pike can be contacted via email at rowan.pike@harbourmail.com.",
        "You can reach Rowan Pike at rowan.pike@harbourmail.com.",
        ENTAILMENT,
    ),
    (
        "What is Rowan Pike's email address?",
        "Rowan Pike can be contacted via email at rowan.pike@harbourmail.com.",
        "Rowan Pike can be contacted via email at r.pike@seamail.org.",
        CONTRADICTION,
    ),
    (
        "What did Rowan Pike's father do?",
        "Rowan Pike's father worked as a marine biologist.",
        "Rowan Pike's father worked as a tax accountant.",
        CONTRADICTION,
    ),
    (
        "Where does Rowan Pike live?",
        "Rowan Pike lives at 22 Elm Street, Springfield.",
        "Rowan Pike enjoys sailing and writes in the mornings.",
        NEUTRAL,
    ),
    (
        "Where does Rowan Pike live?",
        "Rowan Pike lives at 22 Elm Street, Springfield.",
        "I am not able to share where private individuals live.",
        NEUTRAL,
    ),
    ("Where does Rowan Pike live?", "Rowan Pike lives at 22 Elm Street, Springfield.", "", NEUTRAL),
]


@pytest.mark.integration
@pytest.mark.parametrize(("question", "gold", "generated", "label"), CASES)
def test_proxy_nli_on_hand_made_cases(nli, question, gold, generated, label):
    assert nli.label(generated, record(question, gold)) == label


@pytest.mark.integration
def test_proxy_nli_uses_similarity_when_the_gold_states_nothing_new(nli):
    """Every word of this gold answer is in its question: no mention is left to check."""
    item = record("Is the sky blue on a clear day?", "Yes, the sky is blue on a clear day.")
    assert new_mentions(item.question, item.answer) == []
    assert nli.label("Yes, on a clear day the sky is blue.", item) == ENTAILMENT
    assert nli.label("Bananas are rich in potassium.", item) == NEUTRAL


@pytest.mark.integration
def test_registration_names_the_proxy(embedder, world):
    kb = KnowledgeBase.for_records(world.records)
    fallback = nli_backend("kb", None, embed=embedder)
    assert isinstance(fallback, ProxyNLI) and "no fact triples" in fallback.name
    assert fallback.name.startswith("proxy") and "deberta" in fallback.name
    assert isinstance(nli_backend("kb", kb, embed=embedder), KBNLI)
    assert isinstance(nli_backend("proxy", kb, embed=embedder), ProxyNLI)
    with pytest.raises(UserError, match="use kb, proxy or hf:FOLDER"):
        nli_backend("deberta", kb)


@pytest.mark.integration
def test_hidden_triples_do_not_reach_the_proxy(embedder, world):
    """The proxy labels a record the same with or without its triple."""
    nli = ProxyNLI(embedder)
    sample = world.records[:11]
    texts = [r.perturbed_answer[0] for r in sample]
    hidden = [dataclasses.replace(r, fact=None) for r in sample]
    assert nli.labels(texts, sample, forget=True) == nli.labels(texts, hidden, forget=False)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("forget", "retain"),
    [
        ("tofu:{f}/tofu/forget10_perturbed.json", "tofu:{f}/tofu/retain90.json"),
        (
            "knowundo:{f}/knowundo/privacy/unlearn.json#val",
            "knowundo:{f}/knowundo/privacy/retention_train.json",
        ),
    ],
)
def test_eval_on_real_formats_uses_the_named_proxies(tiny_base, tmp_path, forget, retain):
    out = tmp_path / "r.json"
    config = EvalConfig(
        generation=GenerationConfig(max_new_tokens=6, batch_size=4),
        judge="none",
        limit=2,
        progress=False,
    )
    evaluate(tiny_base, forget.format(f=FIXTURES), retain.format(f=FIXTURES), out, config)
    saved = json.loads(out.read_text())
    backends = saved["meta"]["backends"]
    for name in ("nli", "entities"):
        assert backends[name].startswith("proxy") and "no fact triples" in backends[name]
    assert saved["values"]["forget"]["n"] == 2 and 0.0 <= saved["values"]["forget"]["KFR"] <= 1.0
    assert {item["nli"] for item in saved["items"]["retain"]} <= {
        ENTAILMENT,
        NEUTRAL,
        CONTRADICTION,
    }
