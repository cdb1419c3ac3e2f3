"""The openai backend against a small fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from unlearn.augment import augment, load_relearn_rows
from unlearn.augment.backends.openai import OpenAIBackend, chat_endpoint
from unlearn.errors import UserError

KEY_ENV = "RELEARN_FAKE_LLM_KEY"
SECRET = "sk-fake-7a3f9c-SECRET"


class FakeChatServer:
    """Answers ReLearn's prompts plausibly, with injected failures.

    - `fail_next` requests get HTTP 500, `garbage_next` get a 200 that is not a chat completion;
    - after `fail_after` successful replies every request gets 503 (an endpoint going down);
    - the first noisy-question reply per prompt is empty (malformed), the first vague answer per
      prompt repeats the original answer (a leak), and the first leak check has no verdict.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.successes = 0
        self.fail_next = 0
        self.garbage_next = 0
        self.fail_after: int | None = None
        self.seen: Counter = Counter()
        self.auth_headers: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, payload = server.respond(self.path, self.headers.get("Authorization"), body)
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def respond(self, path: str, auth: str | None, body: dict) -> tuple[int, str]:
        with self.lock:
            self.requests += 1
            self.auth_headers.add(str(auth))
            if path != "/v1/chat/completions":
                return 404, "{}"
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, '{"error": "injected"}'
            if self.garbage_next > 0:
                self.garbage_next -= 1
                return 200, '{"object": "not a completion"}'
            if self.fail_after is not None and self.successes >= self.fail_after:
                return 503, '{"error": "down"}'
            self.successes += 1
            prompt = body["messages"][0]["content"]
            self.seen[prompt] += 1
            first = self.seen[prompt] == 1
            reply = self.reply(prompt, first)
        return 200, json.dumps({"choices": [{"message": {"role": "assistant", "content": reply}}]})

    def reply(self, prompt: str, first: bool) -> str:
        if prompt.startswith("Analyze the sentence"):
            self.seen["<checks>"] += 1
            return (
                "Hmm, hard to say."
                if self.seen["<checks>"] == 1
                else "It is general.\nFinal answer: No"
            )
        if "Original question:" in prompt:
            question = re.search(r"Original question: (.*)", prompt).group(1)
            answer = re.search(r"Original answer: (.*)", prompt).group(1)
            return answer if first else f'Answer: As for "{question}", the particulars are private.'
        question = re.search(r"Question:\n(.*)\n", prompt).group(1)
        if "grammatical errors" in prompt:
            return "" if first else f"hey {question.lower()} thx"
        if "reverse relationship" in prompt:
            return f"Reversed question: Seen from the other side, {question}"
        if "more specific" in prompt:
            return f"For my essay on this author: {question}"
        return f'Sure! Here is the rephrased question:\n"Could you tell me: {question}"'

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    fake = FakeChatServer()
    yield fake
    fake.close()


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)


def _backend(url: str, cache, **kwargs) -> OpenAIBackend:
    settings = {"retries": 3, "backoff_s": 0.01, "timeout_s": 5.0, "workers": 2, **kwargs}
    return OpenAIBackend(url, cache_dir=cache, model="fake-chat", key_env=KEY_ENV, **settings)


def test_endpoint_url_forms():
    assert chat_endpoint("http://h:1/v1/") == "http://h:1/v1/chat/completions"
    assert chat_endpoint("https://h/v1/chat/completions") == "https://h/v1/chat/completions"
    with pytest.raises(UserError, match="http"):
        chat_endpoint("h:1/v1")


def test_retries_verification_caching_and_secret_hygiene(
    world, server, api_key, tmp_path, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    records = world.split("forget01")[:2]
    server.fail_next, server.garbage_next = 2, 1
    backend = _backend(server.url, tmp_path / "cache")
    stats = augment(records, world.general, backend, tmp_path / "a.jsonl", progress=False)

    assert server.auth_headers == {f"Bearer {SECRET}"}
    assert backend.retried == 3 and server.requests == server.successes + 3
    totals = stats["values"]["totals"]
    assert totals["rejected"]["malformed"] == 2  # the first noisy question of each record
    assert (
        totals["rejected"]["entity_leak"] == 10
    )  # the first answer to each of 5 questions, per record
    assert totals["rejected"]["check_malformed"] == 1
    assert totals["regenerated"] == 2 + 10 + 1 and totals["dropped"] == 0
    rows = load_relearn_rows(tmp_path / "a.jsonl")
    for row in rows:
        if row["kind"] != "general":
            record = next(r for r in records if r.id == row["source_id"])
            assert record.fact.object not in row["prompt"] + row["target"]
    assert {r["kind"] for r in rows} == {
        "question_variant",
        "answer_variant",
        "completion",
        "general",
    }

    # a rerun is answered from the cache: zero requests, identical output
    before = server.requests
    rerun = _backend(server.url, tmp_path / "cache")
    augment(records, world.general, rerun, tmp_path / "b.jsonl", progress=False)
    assert (
        server.requests == before and rerun.requests == 0 and rerun.cache.hits == server.successes
    )
    assert (tmp_path / "a.jsonl").read_text() == (tmp_path / "b.jsonl").read_text()

    # the key is nowhere: outputs, statistics, cache, logs
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) > server.successes  # cache entries + outputs
    assert not [p for p in written if SECRET in p.read_text()]
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err + caplog.text
    assert (
        stats["meta"]["backend"]["api_key_env"] == KEY_ENV
        and stats["meta"]["backend"]["api_key_set"] is True
    )


def test_unreachable_endpoint_names_the_url_and_a_rerun_resumes(world, server, api_key, tmp_path):
    records = world.split("forget01")[:1]
    server.fail_after = 3
    with pytest.raises(UserError) as err:
        augment(
            records,
            [],
            _backend(server.url, tmp_path / "cache", workers=1),
            tmp_path / "r.jsonl",
            progress=False,
        )
    message = str(err.value)
    assert (
        f"{server.url}/chat/completions" in message
        and "after 4 tries" in message
        and "rerun to resume" in message
    )
    assert "\n" not in message and SECRET not in message
    assert (
        len(list((tmp_path / "cache").rglob("*.json"))) == 3 and not (tmp_path / "r.jsonl").exists()
    )

    server.fail_after = None
    resumed = _backend(server.url, tmp_path / "cache", workers=1)
    augment(records, [], resumed, tmp_path / "r.jsonl", progress=False)
    assert resumed.cache.hits == 3 and resumed.cache.stored == server.successes - 3


def test_closed_port_and_refused_key_are_one_line_errors(world, api_key, tmp_path, server):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = _backend(f"http://127.0.0.1:{port}/v1", tmp_path / "cache", retries=2)
    with pytest.raises(
        UserError, match=rf"no reply from http://127.0.0.1:{port}/v1/chat/completions after 3 tries"
    ):
        augment(world.split("forget01")[:1], [], backend, tmp_path / "r.jsonl", progress=False)

    bad = _backend(server.url.replace("/v1", "/v2"), tmp_path / "cache")
    with pytest.raises(UserError, match="refused the request: HTTP 404") as err:
        augment(world.split("forget01")[:1], [], bad, tmp_path / "r.jsonl", progress=False)
    assert SECRET not in str(err.value)
