"""Logit lens: the last layer is the model's output, a perturbed layer changes only what follows it."""

from __future__ import annotations

import math

import pytest
import torch

from relearn_interp.lens.decode import decode_residual
from relearn_interp.lens.run import lens_sites, logit_lens
from relearn_interp.load import load
from relearn_interp.prompts import build_prompts, coarse_first_tokens
from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.models.loading import load_tokenizer

SCALARS = ("target_prob", "first_prob", "answer_prob", "answer_logprob", "related_mass")


@pytest.fixture(scope="module")
def model(tiny_base):
    return load(tiny_base, device="cpu")


@pytest.fixture(scope="module")
def records(world):
    return world.split("forget10")[:6]


def test_prompts_track_the_object_and_related_tokens(world, tiny_base):
    tokenizer = load_tokenizer(tiny_base)
    author = world.authors[0]
    records = [r for r in world.records if r.fact.subject in {author.name, world.authors[1].name}]
    prompts = {p.id: p for p in build_prompts(tokenizer, records)}
    birthplace = prompts["author000-birthplace"]
    assert birthplace.target_kind == "object"
    assert author.facts["birthplace"].startswith(tokenizer.decode([birthplace.target_id]).strip())
    assert birthplace.input_ids[: len(birthplace.prompt_ids)] == birthplace.prompt_ids
    assert birthplace.answer_ids[-1] == tokenizer.eos_token_id
    # Related concepts: the birthplace's coarse attributes (country, region, landscape) and the
    # other author's birthplace, never the first token of one of author 0's other facts.
    own = {p.target_id for p in prompts.values() if p.id.startswith("author000")}
    coarse = coarse_first_tokens(tokenizer, next(r.fact for r in records if r.id == birthplace.id))
    assert coarse - own and (coarse - own) <= set(birthplace.related_ids)
    other_birthplace = prompts["author001-birthplace"].target_id
    assert (other_birthplace in birthplace.related_ids) is (other_birthplace not in own)
    assert not own & set(birthplace.related_ids)
    assert birthplace.target_id not in birthplace.related_ids
    general = QARecord(id="q", question="Say hi.", answer="Hi there.")
    assert build_prompts(tokenizer, [general])[0].target_kind == "first"


@pytest.mark.integration
def test_last_layer_is_the_output_distribution(model, records):
    results = logit_lens({"tiny": model}, records, progress=False)
    last = len(results["values"]["sites"]) - 1
    for item in results["items"]:
        lens = item["checkpoints"]["tiny"]
        for field in SCALARS:
            if lens["output"][field] is not None:
                assert lens[field][last] == pytest.approx(lens["output"][field], rel=1e-4, abs=1e-7)
        assert lens["target_rank"][last] == lens["output"]["target_rank"]
        assert lens["top_tokens"][last] == lens["output"]["top_tokens"]
    tokens = torch.tensor([build_prompts(model.tokenizer, records)[0].input_ids])
    logits, cache = model.run_with_cache(
        tokens, names_filter=f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"
    )
    decoded = decode_residual(model, cache[f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"])
    assert (decoded - logits).abs().max().item() <= 1e-5


@pytest.mark.integration
def test_perturbing_layer_k_changes_only_layers_from_k(tiny_base, model, records):
    k = 2
    perturbed = load(tiny_base, device="cpu")
    block = perturbed.original_model.model.layers[k]
    with torch.no_grad():
        generator = torch.Generator().manual_seed(0)
        block.mlp.down_proj.weight.add_(
            torch.randn(block.mlp.down_proj.weight.shape, generator=generator) * 0.2
        )
    results = logit_lens(
        {"clean": model, "perturbed": perturbed}, records, mid=True, progress=False
    )
    sites = results["values"]["sites"]
    for s, site in enumerate(sites):
        differences = [
            abs(item["checkpoints"]["clean"][field][s] - item["checkpoints"]["perturbed"][field][s])
            for item in results["items"]
            for field in ("answer_logprob", "target_prob")
        ]
        # the MLP of block k acts after its attention: resid_mid of block k is still untouched
        if site["layer"] < k or site["label"] == f"L{k}.mid":
            assert max(differences) <= 1e-6, site["label"]
        else:
            assert max(differences) > 1e-3, site["label"]


@pytest.mark.integration
def test_summary_numbers_are_consistent(model, records):
    results = logit_lens(
        {"tiny": model}, records, layers=[0, -1], top_k=3, grid_items=2, progress=False
    )
    assert [site["label"] for site in results["values"]["sites"]] == ["L0", "L3"]
    values = results["values"]["checkpoints"]["tiny"]
    summary = values["summary"]
    assert summary["max_target_prob"] >= summary["output_target_prob"] - 1e-9
    assert 0.0 <= summary["hidden_top10_fraction"] <= 1.0
    assert values["output"]["target_prob"] == pytest.approx(
        values["per_site"]["target_prob"][-1], rel=1e-4
    )
    first = results["items"][0]["checkpoints"]["tiny"]
    assert len(first["top_tokens"][0]) == 3 and first["top_probs"][0] == sorted(
        first["top_probs"][0], reverse=True
    )
    assert len(first["grid_top_token"]) == 2 and len(first["grid_top_token"][0]) == len(
        results["items"][0]["answer_tokens"]
    )
    assert "grid_top_token" not in results["items"][2]["checkpoints"]["tiny"]
    answer_logprob = first["answer_logprob"][1]
    assert (
        math.exp(answer_logprob) <= first["answer_prob"][1] + 1e-9
    )  # Jensen: exp(mean log p) <= mean p


@pytest.mark.integration
def test_bad_inputs_are_refused(model, records):
    with pytest.raises(UserError, match="layer 4 is out of range"):
        lens_sites(model, layers=[4])
    with pytest.raises(UserError, match="holds no records"):
        logit_lens({"tiny": model}, [], progress=False)
    long = QARecord(id="long-one", question="Why? " * 300, answer="Because.")
    with pytest.raises(
        UserError, match="record long-one .* longer than the model's context of 256"
    ):
        logit_lens({"tiny": model}, [long], progress=False)


@pytest.mark.integration
def test_slot_positions_match_the_full_decode(model, records):
    full = logit_lens({"tiny": model}, records, grid_items=1, progress=False)
    slots = logit_lens({"tiny": model}, records, grid_items=1, positions="slots", progress=False)
    for whole, fast in zip(full["items"], slots["items"], strict=True):
        a, b = whole["checkpoints"]["tiny"], fast["checkpoints"]["tiny"]
        for field in ("target_prob", "first_prob", "related_mass"):
            assert b[field] == pytest.approx(a[field], rel=1e-5, abs=1e-9), field
        assert b["target_rank"] == a["target_rank"] and b["top_tokens"] == a["top_tokens"]
        assert b["answer_prob"] == [None] * len(a["answer_prob"])
        assert b["output"] == a["output"]  # the output is always complete
        assert ("grid_gold_prob" in b) == ("grid_gold_prob" in a)
    assert slots["values"]["checkpoints"]["tiny"]["per_site"]["answer_prob"][0] is None
    with pytest.raises(UserError, match="positions must be one of answer, slots"):
        logit_lens({"tiny": model}, records, positions="all", progress=False)


@pytest.mark.integration
def test_numbers_equal_a_plain_log_softmax_of_every_layer(model, records):
    """The lens computes rank, top-k and related mass only where reported, and reuses the output
    for the last block: its numbers must be those of a full decode of every row."""
    results = logit_lens({"tiny": model}, records, top_k=3, grid_items=1, progress=False)
    hooks = [f"blocks.{layer}.hook_resid_post" for layer in range(model.cfg.n_layers)]
    for prompt, item in zip(build_prompts(model.tokenizer, records), results["items"], strict=True):
        lens = item["checkpoints"]["tiny"]
        span = range(prompt.answer_start, prompt.answer_start + len(prompt.answer_ids))
        _, cache = model.run_with_cache(torch.tensor([prompt.input_ids]), names_filter=hooks)
        for layer, hook in enumerate(hooks):
            log_probs = decode_residual(model, cache[hook][0, list(span)]).log_softmax(-1)
            gold = log_probs[torch.arange(len(span)), torch.tensor(prompt.answer_ids)]
            target = log_probs[prompt.target_index]
            assert lens["target_prob"][layer] == pytest.approx(
                math.exp(gold[prompt.target_index]), rel=1e-5
            )
            assert lens["target_rank"][layer] == int((target > gold[prompt.target_index]).sum()) + 1
            assert lens["first_rank"][layer] == int((log_probs[0] > gold[0]).sum()) + 1
            assert lens["answer_logprob"][layer] == pytest.approx(float(gold.mean()), rel=1e-5)
            top = target.topk(3)
            assert lens["top_tokens"][layer] == [model.tokenizer.decode([t]) for t in top.indices]
            assert lens["top_probs"][layer] == pytest.approx(top.values.exp().tolist(), rel=1e-5)
            related = target[prompt.related_ids].exp().sum() if prompt.related_ids else None
            if related is not None:
                assert lens["related_mass"][layer] == pytest.approx(float(related), rel=1e-5)
        if "grid_top_token" in lens:  # the heatmap prompt: top-1 at every answer position
            top1 = log_probs.argmax(-1).tolist()
            assert lens["grid_top_token"][-1] == [model.tokenizer.decode([t]) for t in top1]


@pytest.mark.integration
def test_a_model_whose_decoded_last_layer_is_not_its_output_is_refused(tiny_base, records):
    broken = load(tiny_base, device="cpu")
    # a readout that is not the model's: as if a logit scaling were declared that it lacks
    broken.adapter.apply_output_logits_transform = lambda logits: 8.0 * logits
    with pytest.raises(UserError, match="cannot reproduce the output .* probabilities up to"):
        logit_lens({"broken": broken}, records, progress=False)
