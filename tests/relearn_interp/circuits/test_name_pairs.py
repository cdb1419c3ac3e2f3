"""Name-swap pairs for entities without fact triples (TOFU records), on the tiny tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

from relearn_interp.circuits.metrics import resolve_metric
from relearn_interp.circuits.name_pairs import (
    name_swap_pairs,
    names_in_questions,
    recombined_names,
)
from relearn_interp.circuits.pairs import make_batches
from unlearn.data.loaders import load_data
from unlearn.errors import UserError
from unlearn.models.loading import load_tokenizer
from unlearn.prompting import encode_example

TOFU_FULL = Path(__file__).resolve().parents[2] / "fixtures" / "tofu" / "full.json"


@pytest.fixture(scope="module")
def tokenizer(tiny_base):
    return load_tokenizer(tiny_base)


@pytest.fixture(scope="module")
def tofu_records():
    """TOFU's shipped format: JSON Lines inside a .json file, question and answer only."""
    return load_data(f"tofu:{TOFU_FULL}")


def test_names_come_from_the_questions(tofu_records):
    names = names_in_questions(tofu_records, "Jaime Vasquez")
    assert set(names) == {
        "Hsiao Yun-Hwa",
        "Basil Mahfouz Al-Kuwaiti",
        "Carmen Montenegro",
        "Elvin Mammadov",  # also asked about as "Elvin Mammadov's"
    }  # Rajeev Majumdar is named by one question only; places and "LGBTQ+" are not names


def test_pairs_swap_the_name_and_keep_the_answer_targets(tokenizer, tofu_records):
    pairs = name_swap_pairs(tokenizer, tofu_records, "Rajeev Majumdar", partners=3)
    assert pairs.source == "names:Rajeev Majumdar" and len(pairs.pairs) == 1
    pair = pairs.pairs[0]
    record = next(r for r in tofu_records if r.id == pair.fact)
    assert pair.corrupted_gold is None and pair.corrupted_subject == "Hsiao Yun-Hwa"
    assert len(pair.clean_ids) == len(pair.corrupted_ids)
    trained = encode_example(tokenizer, record.question, record.answer).input_ids
    # the clean side is the training tokens, and the targets follow the name in the answer
    assert trained[: len(pair.clean_ids) + 1] == pair.clean_ids + [pair.targets[-1]]
    positions = pair.target_positions
    assert trained[positions[0] + 1 : positions[-1] + 2] == pair.targets
    assert "Rajeev Majumdar" not in tokenizer.decode(pair.targets)
    # only the name's tokens differ, and they all come before the targets
    assert pair.subject_positions and max(pair.subject_positions) < positions[0] + 1
    assert resolve_metric("auto", pairs.pairs) == "answer_logprob"
    with pytest.raises(UserError, match="needs the corrupted prompt's gold"):
        resolve_metric("logit_diff", pairs.pairs)
    batch = make_batches(pairs.pairs, 1, 0, "cpu")[0]
    assert batch.target_mask.all() and batch.targets[0].tolist() == positions


def test_names_are_recombined_when_no_whole_name_fits(tokenizer, tofu_records):
    # Hsiao Yun-Hwa's tokens have no equal among the other whole names of the data
    pool = names_in_questions(tofu_records, "Hsiao Yun-Hwa")
    want = len(tokenizer(" Hsiao Yun-Hwa", add_special_tokens=False)["input_ids"])
    assert all(len(tokenizer(" " + n, add_special_tokens=False)["input_ids"]) != want for n in pool)
    recombined = recombined_names(tokenizer, pool, "Hsiao Yun-Hwa")
    assert recombined and recombined == recombined_names(tokenizer, pool, "Hsiao Yun-Hwa")
    pool_words = {w for n in pool for w in n.split()}
    for name in recombined:
        assert len(tokenizer(" " + name, add_special_tokens=False)["input_ids"]) == want
        assert set(name.split()) <= pool_words and name not in pool
        assert not {"hsiao", "yun-hwa"} & {w.lower() for w in name.split()}
    pairs = name_swap_pairs(tokenizer, tofu_records, "Hsiao Yun-Hwa", partners=2)
    assert {p.corrupted_subject for p in pairs.pairs} <= set(recombined)
    assert all(len(p.clean_ids) == len(p.corrupted_ids) for p in pairs.pairs)
    assert "recombined" in pairs.corruption


def test_given_partners_replace_the_names_of_the_data(tokenizer, tofu_records):
    # a given name of another token length is not recombined: the error asks for better ones
    with pytest.raises(UserError, match="give names of the same token length with --partners"):
        name_swap_pairs(
            tokenizer, tofu_records, "Hsiao Yun-Hwa", partners=2, given=["Carmen Montenegro"]
        )
    pairs = name_swap_pairs(
        tokenizer, tofu_records, "Hsiao Yun-Hwa", partners=2, given=["Rajeev Majumdar"]
    )
    assert {p.corrupted_subject for p in pairs.pairs} == {"Rajeev Majumdar"}
    assert len({p.fact for p in pairs.pairs}) == len(pairs.pairs) == 4  # every question names her
    assert "--partners" in pairs.corruption
    with pytest.raises(UserError, match="no record of the data names"):
        name_swap_pairs(tokenizer, tofu_records, "Nobody Here", partners=2)
