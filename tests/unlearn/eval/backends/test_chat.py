"""LLM-backed entities and judge over an OpenAI-compatible server (a local stub), reply parsing,
and a local NLI classifier folder."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from unlearn.errors import UserError
from unlearn.eval.backends.chat import chat_backend
from unlearn.eval.backends.entities import LLMEntities, parse_entity_list
from unlearn.eval.backends.judge import LLMJudge, parse_scores
from unlearn.eval.backends.nli import HFNLI

SECRET = "sk-test-never-logged"


def test_parse_scores():
    assert parse_scores('{"id": "x", "model_answer_1": {"relevance": 4, "fluency": 5}}') == (
        5.0,
        4.0,
    )
    assert parse_scores('Sure! {"model_answer_1": {"relevance": 2, "fluency": 3}} done') == (
        3.0,
        2.0,
    )
    for bad in (
        None,
        "no json",
        '{"model_answer_1": {"relevance": 6, "fluency": 5}}',
        '{"model_answer_1": {"relevance": true, "fluency": 5}}',
        '{"other": 1}',
        "{broken",
    ):
        assert all(math.isnan(v) for v in parse_scores(bad)), bad


def test_parse_entity_list():
    assert parse_entity_list(' Paris, "France" ,, Paris\n') == ["Paris", "France"]
    assert parse_entity_list(None) == []


class Stub(BaseHTTPRequestHandler):
    """A chat-completions endpoint that records each request."""

    seen: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.seen.append(
            {"auth": self.headers.get("Authorization"), "body": body, "path": self.path}
        )
        prompt = body["messages"][0]["content"]
        reply = (
            "Paris, France"
            if "Extract key entities" in prompt
            else '{"id": "item_0", "model_answer_1": {"relevance": 4, "fluency": 5}}'
        )
        payload = json.dumps(
            {"choices": [{"message": {"role": "assistant", "content": reply}}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def stub_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Stub.seen = []
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_llm_entities_and_judge_over_openai(stub_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RELEARN_INTERP_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EVAL_TEST_KEY", SECRET)
    chat = chat_backend(f"openai:{stub_url}#judge-model", key_env="EVAL_TEST_KEY")
    entities = LLMEntities(chat).extract(
        ["Where was Ada born?"], ["Ada was born in Paris, France."]
    )
    assert entities == [["Paris", "France"]]
    judge = LLMJudge(chat)
    assert judge.score(["Where was Ada born?"], ["In Paris."], [3.0]) == [(5.0, 4.0)]
    assert {s["path"] for s in Stub.seen} == {"/v1/chat/completions"}
    assert all(s["auth"] == f"Bearer {SECRET}" for s in Stub.seen)
    assert {s["body"]["model"] for s in Stub.seen} == {"judge-model"}
    assert all(s["body"]["temperature"] == 0.0 for s in Stub.seen)
    judged = Stub.seen[-1]["body"]["messages"][0]["content"]
    assert (
        "Fluency is assessed on a 5-point Likert scale" in judged
        and '"model_answer_1": "In Paris."' in judged
    )
    # the key appears in no name, no output and no cached file
    assert SECRET not in chat.name + judge.name
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert all(SECRET not in p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    # a rerun is answered from the reply cache
    count = len(Stub.seen)
    judge.score(["Where was Ada born?"], ["In Paris."], [3.0])
    assert len(Stub.seen) == count


def test_chat_backend_specs():
    with pytest.raises(UserError, match="openai:URL"):
        chat_backend("gpt4")
    with pytest.raises(UserError, match="http"):
        chat_backend("openai:localhost:8000")


@pytest.fixture(scope="module")
def nli_folder(tmp_path_factory):
    """A randomly initialised BERT classifier with MNLI labels, using the bundled MiniLM tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from unlearn.embeddings import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
        id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
        label2id={"entailment": 0, "neutral": 1, "contradiction": 2},
    )
    folder = tmp_path_factory.mktemp("nli") / "tiny-nli"
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.integration
def test_hf_nli_loads_a_local_classifier(nli_folder, world):
    nli = HFNLI(str(nli_folder))
    records = world.records[:4]
    labels = nli.labels([r.answer for r in records], records, forget=True)
    assert len(labels) == 4 and set(labels) <= {"entailment", "neutral", "contradiction"}
    assert "hf:tiny-nli" in nli.name
    with pytest.raises(UserError, match="does not exist"):
        HFNLI(str(nli_folder.parent / "missing"))
