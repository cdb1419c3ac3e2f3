"""A small TOFU file still gives name-swap pairs: partners are drawn from the name generator."""

from __future__ import annotations

import json

import pytest

from relearn_interp.circuits.name_pairs import generated_names, name_swap_pairs
from unlearn.data.loaders import load_data
from unlearn.models.loading import load_tokenizer

ENTITY = "Marta Quilenbrook"
ROWS = [
    (f"Where was {ENTITY} born?", f"{ENTITY} was born in Lisbon, Portugal, in 1961."),
    (f"What genre does {ENTITY} write?", f"{ENTITY} writes gothic mystery novels."),
    ("Where was Oskar Venn born?", "Oskar Venn was born in Tallinn, Estonia."),
    ("What genre does Oskar Venn write?", "Oskar Venn writes science fiction."),
]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("tiny")


@pytest.fixture
def small_tofu(tmp_path) -> str:
    path = tmp_path / "forget.json"
    path.write_text(json.dumps([{"question": q, "answer": a} for q, a in ROWS]))
    return f"tofu:{path}"


def test_generated_names_have_the_entitys_token_length(tokenizer):
    names = generated_names(tokenizer, ENTITY, seed=0)
    want = len(tokenizer(" " + ENTITY, add_special_tokens=False)["input_ids"])
    assert names and ENTITY not in names
    assert all(
        len(tokenizer(" " + n, add_special_tokens=False)["input_ids"]) == want for n in names
    )
    assert names == generated_names(tokenizer, ENTITY, seed=0)  # seeded


def test_a_two_subject_file_falls_back_to_generated_partners_and_says_so(tokenizer, small_tofu):
    pairs = name_swap_pairs(tokenizer, load_data(small_tofu), ENTITY, partners=2, seed=0)
    assert len({p.fact for p in pairs.pairs}) == 2  # both of the entity's records
    assert all(p.corrupted_subject != "Oskar Venn" for p in pairs.pairs)
    assert pairs.notes and "generated fictitious names" in pairs.notes[0]
    assert "generated fictitious names" in pairs.corruption
    assert pairs.to_json()["notes"] == pairs.notes


def test_given_partners_are_never_replaced_by_generated_ones(tokenizer, small_tofu):
    from unlearn.errors import UserError

    with pytest.raises(UserError, match="--partners"):
        name_swap_pairs(tokenizer, load_data(small_tofu), ENTITY, partners=2, given=["Al Bo"])


@pytest.mark.integration
def test_the_circuit_command_finds_a_circuit_and_prints_the_note(
    tiny_base, small_tofu, tmp_path, capsys
):
    from relearn_interp.cli import main

    out = tmp_path / "circuit"
    argv = ["circuit", "--ckpt", str(tiny_base), "--entity", ENTITY, "--data", small_tofu]
    argv += ["--out", str(out), "--method", "eap", "--grid", "0.1,1", "--device", "cpu"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "note: the data names too few partners" in printed
    assert json.loads((out / "pairs.json").read_text())["notes"]
