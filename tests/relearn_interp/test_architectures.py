"""Every architecture the README lists as tested, end to end on a tiny random model of it.

For each: the bridge's logits equal Hugging Face's; the logit lens at the last layer is the output
distribution (Gemma-2's final soft cap included, at logits far beyond the cap); a model's shift
against itself is 0; EAP scores of single edges equal finite-difference patching of those edges;
LoRA training runs two steps and its merged checkpoint reloads. An architecture the bridge
cannot load is refused in one line.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BioGptConfig,
    Gemma2Config,
    LlamaConfig,
    MistralConfig,
    PretrainedConfig,
    Qwen2Config,
)

from relearn_interp.circuits.attribute import as_rows, attribute, reader_specs, writer_specs
from relearn_interp.circuits.fact_pairs import entity_pairs
from relearn_interp.circuits.graph import Graph, edge_hooks
from relearn_interp.circuits.pairs import make_batches
from relearn_interp.lens.decode import decode_residual
from relearn_interp.lens.run import logit_lens
from relearn_interp.load import load
from relearn_interp.shift import distribution_shift
from unlearn.errors import UserError
from unlearn.models.loading import load_model
from unlearn.training.config import TrainConfig
from unlearn.training.run import train

ROOT = Path(__file__).resolve().parents[2]
SOFT_CAP = 30.0
# d_model 64, 2 layers, 4 query heads; a wide initialisation keeps the model far from linear
SHAPE = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 256,
    "initializer_range": 0.2,
}
# name -> (config class, its settings, the Hugging Face class the README table names)
ARCHITECTURES: dict[str, tuple[type[PretrainedConfig], dict, str]] = {
    "llama": (LlamaConfig, {"num_key_value_heads": 4}, "LlamaForCausalLM"),
    "llama-gqa": (LlamaConfig, {"num_key_value_heads": 2}, "LlamaForCausalLM"),
    "gemma2": (
        Gemma2Config,
        {
            "num_key_value_heads": 2,
            "head_dim": 16,
            "query_pre_attn_scalar": 16,
            "sliding_window": 8,  # shorter than the prompts: both attention kinds run
            "final_logit_softcapping": SOFT_CAP,
            "attn_logit_softcapping": 50.0,
        },
        "Gemma2ForCausalLM",
    ),
    "qwen2": (Qwen2Config, {"num_key_value_heads": 2}, "Qwen2ForCausalLM"),
    "mistral": (
        MistralConfig,
        {"num_key_value_heads": 2, "sliding_window": 8},
        "MistralForCausalLM",
    ),
}
EDGES = ("input->a1.h0<q>", "a0.h1->a1.kv0<k>", "a0.h2->a1.kv1<v>", "m0->logits")


pytestmark = pytest.mark.usefixtures("one_thread")


def build(name: str, tokenizer, folder: Path) -> Path:
    """Save a random model of architecture `name` with the tiny preset's tokenizer."""
    config_class, settings, _ = ARCHITECTURES[name]
    config = config_class(
        **SHAPE,
        **settings,
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    if name == "gemma2":
        # Gemma's final norm scales by (1 + weight): raw logits reach several times the cap
        with torch.no_grad():
            model.model.norm.weight.fill_(8.0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def arch(request, tiny_base, tmp_path_factory) -> tuple[str, Path]:
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    folder = tmp_path_factory.mktemp("arch") / request.param
    return request.param, build(request.param, tokenizer, folder)


@pytest.fixture(scope="module")
def bridge(arch):
    return load(arch[1], device="cpu")


@pytest.fixture(scope="module")
def tokens(bridge, world) -> torch.Tensor:
    record = world.split("forget10")[0]
    return torch.tensor([bridge.tokenizer(f"{record.question} {record.answer}")["input_ids"]])


@pytest.mark.integration
def test_bridge_logits_equal_hugging_face(arch, bridge, tokens):
    reference, _ = load_model(arch[1], attn_implementation="eager")
    with torch.no_grad():
        expected = reference(tokens).logits
        got = bridge(tokens)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.integration
def test_lens_at_the_last_layer_is_the_output_distribution(arch, bridge, tokens, world):
    last = f"blocks.{bridge.cfg.n_layers - 1}.hook_resid_post"
    with torch.no_grad():
        logits, cache = bridge.run_with_cache(tokens, names_filter=last)
        lens = decode_residual(bridge, cache[last])
        rows = cache[last][0]  # the lens's own path: rows written into a reused buffer
        buffered = decode_residual(bridge, rows, out=torch.empty(rows.shape[0], logits.shape[-1]))
        uncapped = bridge.unembed(bridge.ln_final(cache[last]))
    output = logits.softmax(-1)
    assert (lens.softmax(-1) - output).abs().max().item() <= 1e-5
    assert (buffered.softmax(-1) - output[0]).abs().max().item() <= 1e-5
    if arch[0] == "gemma2":  # the cap matters at these logits: skipping it would be wrong
        assert uncapped.abs().max().item() > 3 * SOFT_CAP
        assert logits.abs().max().item() <= SOFT_CAP
        assert (uncapped.softmax(-1) - output).abs().max().item() > 0.1
    results = logit_lens({arch[0]: bridge}, world.split("forget10")[:3], progress=False)
    for item in results["items"]:
        lens_item = item["checkpoints"][arch[0]]
        assert lens_item["target_prob"][-1] == lens_item["output"]["target_prob"]
        assert lens_item["top_tokens"][-1] == lens_item["output"]["top_tokens"]
    assert "apply_output_logits_transform" in results["meta"]["readout"][arch[0]]


@pytest.mark.integration
def test_shift_of_a_model_against_itself_is_zero(arch, bridge, world):
    results = distribution_shift(
        bridge, {"same": bridge}, world.split("forget10")[:3], progress=False
    )
    means = results["values"]["models"]["same"]["mean"]
    for metric in ("kl", "kl_reverse", "js", "tv"):
        assert means[metric] == 0.0, metric
    assert results["values"]["models"]["same"]["base_top1_kept_rate"] == 1.0


def writer_outputs(model, graph: Graph, tokens: torch.Tensor) -> torch.Tensor:
    """Every upstream node's output, [n_upstream, batch, pos, d_model], by forward hooks."""
    found = {}
    hooks = [
        (name, lambda t, hook, row=row: found.__setitem__(row, as_rows(t.detach())))
        for name, row in writer_specs(graph)
    ]
    with torch.no_grad(), model.hooks(fwd_hooks=hooks):
        model(tokens)
    return torch.cat([found[row] for _, row in writer_specs(graph)])


def logit_difference(logits: torch.Tensor, batch) -> float:
    """Mean gold − corrupted-gold logit at each clean prompt's last position."""
    rows = torch.arange(batch.size)
    final = logits[rows, batch.last].float()
    return float((final[rows, batch.gold] - final[rows, batch.corrupted_gold]).mean())


def patched_metric(model, graph: Graph, batch, edge: str, eps: float) -> float:
    """The metric with only `edge` moved eps of the way to its corrupted value."""
    up, down = graph.edge_index(edge)
    delta = (
        writer_outputs(model, graph, batch.corrupted) - writer_outputs(model, graph, batch.clean)
    )[up]
    name, cols = next((n, c) for n, c, _ in reader_specs(graph) if c.start <= down < c.stop)

    def hook(tensor, hook):
        tensor = tensor.clone()
        if tensor.ndim == 4:  # split q/k/v input: one slot per (key/value) head
            tensor[:, :, down - cols.start] += eps * delta
        else:
            tensor += eps * delta
        return tensor

    with torch.no_grad(), model.hooks(fwd_hooks=[(name, hook)]):
        return logit_difference(model(batch.clean), batch)


@pytest.mark.integration
def test_eap_matches_finite_difference_patching(bridge, world):
    pairs = entity_pairs(bridge.tokenizer, world.records, [world.authors[0].name]).pairs
    batch = make_batches(pairs[:2], 2, 0, "cpu")[0]
    scores = attribute(bridge, [batch], method="eap", metric="logit_diff", progress=False).scores
    graph = Graph.from_model(bridge)
    eps = 1e-2
    with edge_hooks(bridge):
        for edge in EDGES:
            up, down = graph.edge_index(edge)
            slope = (
                patched_metric(bridge, graph, batch, edge, eps)
                - patched_metric(bridge, graph, batch, edge, -eps)
            ) / (2 * eps)
            assert float(scores[up, down]) == pytest.approx(slope, rel=2e-2, abs=2e-4), edge
    chosen = [float(scores[graph.edge_index(edge)]) for edge in EDGES]
    assert max(abs(score) for score in chosen) > 1e-2  # the comparison is not vacuous


@pytest.mark.integration
def test_lora_training_runs_and_the_merged_checkpoint_reloads(arch, bench_dir, tmp_path):
    config = TrainConfig(lora=True, lora_r=4, lora_alpha=8, lr=1e-2, batch_size=2, max_steps=2)
    out = tmp_path / "ga"
    card = train("ga", arch[1], f"ours:{bench_dir}#forget10", None, out, config)
    assert (card["method"], card["step"], card["complete"]) == ("ga", 2, True)
    assert len(card["losses"]) == 2 and all(math.isfinite(loss) for loss in card["losses"])
    tokens = torch.tensor([[1, 40, 41, 300, 301, 302, 900, 17]])
    reloaded = load(out, device="cpu")
    merged, _ = load_model(out, attn_implementation="eager")
    base, _ = load_model(arch[1], attn_implementation="eager")
    with torch.no_grad():
        got = reloaded(tokens)
        torch.testing.assert_close(got, merged(tokens).logits, rtol=1e-5, atol=1e-5)
        assert (got - base(tokens).logits).abs().max().item() > 1e-4  # the two steps changed it
    assert not any(p.requires_grad for p in reloaded.parameters())


@pytest.mark.integration
def test_an_architecture_the_bridge_cannot_load_is_refused_in_one_line(tiny_base, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    config = BioGptConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
    )
    folder = tmp_path / "biogpt"
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with pytest.raises(UserError, match="BioGptForCausalLM is not supported") as error:
        load(folder, device="cpu")
    assert "\n" not in str(error.value)


def test_the_readme_lists_every_tested_architecture():
    readme = (ROOT / "README.md").read_text()
    tested = set(re.findall(r"^\| `(\w+)` .*\| tested", readme, flags=re.MULTILINE))
    assert tested == {hf_class for _, _, hf_class in ARCHITECTURES.values()}
