"""The hf backend on the tiny preset: the plumbing (prompts in, parsed replies out, statistics), not quality."""

from __future__ import annotations

import json

import pytest
import torch

from unlearn.augment import AugmentConfig, augment, stats_path
from unlearn.augment.backends import AnswerJob, QuestionJob
from unlearn.augment.backends.hf import HFBackend
from unlearn.errors import UserError

pytestmark = pytest.mark.integration  # every test loads the tiny model


@pytest.fixture(scope="module")
def tiny_backend(tiny_base):
    # generation on a shared, oversubscribed CPU is many times faster on one thread
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield HFBackend(str(tiny_base), seed=0, device="cpu")
    torch.set_num_threads(threads)


def test_hf_backend_returns_one_parsed_reply_per_job(world, tiny_backend):
    record = world.split("forget01")[0]
    before = tiny_backend.requests
    questions = tiny_backend.question_variants(
        [QuestionJob(record, "rephrased", 0, 1, a) for a in range(2)]
    )
    answers = tiny_backend.vague_answers([AnswerJob(record, record.question, 0, 1, 0)])
    assert len(questions) == 2 and len(answers) == 1
    assert all(q is None or (isinstance(q, str) and q.strip()) for q in questions + answers)
    assert tiny_backend.requests == before + 3
    # the vague-answer prompt is longer than the tiny model's 256 positions leave (256 - 128 new
    # tokens): it is kept from the end and counted; the shorter question prompts fit
    assert tiny_backend.truncated_prompts == 1


def test_hf_backend_runs_the_pipeline_and_accounts_for_every_candidate(
    world, tiny_backend, tmp_path
):
    records = world.split("forget01")[:1]
    out = tmp_path / "r.jsonl"
    try:
        augment(
            records,
            world.general,
            tiny_backend,
            out,
            progress=False,
            config=AugmentConfig(rounds=2),
        )
    except UserError as err:  # a random-weight model rarely writes a verifiable answer
        assert "no augmented row survived" in str(err)
    stats = json.loads(stats_path(out).read_text())
    totals, stages = stats["values"]["totals"], stats["values"]["stages"]
    assert (
        stats["meta"]["backend"]["name"] == "hf"
        and stats["meta"]["settings"]["llm_check_used"] is True
    )
    assert stages["question"]["slots"] == 4
    assert stages["answer"]["slots"] == 1 + stages["question"]["kept"]
    # every candidate was either rejected (with a reason) or kept
    assert (
        totals["generated"]
        == sum(totals["rejected"].values()) + stages["question"]["kept"] + stages["answer"]["kept"]
    )
    assert totals["generated"] <= 2 * (
        stages["question"]["slots"] + stages["answer"]["slots"]
    )  # 2 rounds at most
    assert (
        totals["regenerated"]
        == totals["generated"] - stages["question"]["slots"] - stages["answer"]["slots"]
    )
    assert totals["regenerated"] >= 1  # a random-weight model fails verification at least once
    assert out.exists() == (stages["answer"]["kept"] > 0)
