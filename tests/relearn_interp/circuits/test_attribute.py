"""EAP and EAP-IG scores against single-edge patching, TransformerLens, and an explicit GQA expansion."""

from __future__ import annotations

import contextlib

import pytest
import torch

from relearn_interp.circuits import prune
from relearn_interp.circuits.attribute import as_rows, attribute, reader_specs, writer_specs
from relearn_interp.circuits.fact_pairs import entity_pairs
from relearn_interp.circuits.faithfulness import run_circuits
from relearn_interp.circuits.graph import Graph, edge_hooks
from relearn_interp.circuits.metrics import metric_per_pair
from relearn_interp.circuits.pairs import make_batches
from unlearn.errors import UserError

pytestmark = pytest.mark.integration


def writer_outputs(model, graph: Graph, tokens: torch.Tensor) -> torch.Tensor:
    """Every upstream node's output, [n_upstream, batch, pos, d_model], by plain forward hooks."""
    found = {}
    hooks = [
        (name, lambda t, hook, row=row: found.__setitem__(row, as_rows(t.detach())))
        for name, row in writer_specs(graph)
    ]
    with torch.no_grad(), model.hooks(fwd_hooks=hooks):
        model(tokens)
    return torch.cat([found[row] for _, row in writer_specs(graph)])


def edge_patched_metric(model, graph: Graph, batch, up: int, down: int, eps: float) -> float:
    """Mean metric with only edge up → down moved eps of the way to its corrupted value."""
    delta = (
        writer_outputs(model, graph, batch.corrupted) - writer_outputs(model, graph, batch.clean)
    )[up]
    name, cols = next(
        (name, cols) for name, cols, _ in reader_specs(graph) if cols.start <= down < cols.stop
    )

    def hook(tensor, hook):
        tensor = tensor.clone()
        if tensor.ndim == 4:
            tensor[:, :, down - cols.start] += eps * delta
        else:
            tensor += eps * delta
        return tensor

    with torch.no_grad(), model.hooks(fwd_hooks=[(name, hook)]):
        return float(metric_per_pair("logit_diff", model(batch.clean), batch).mean())


def test_eap_is_the_first_order_effect_of_patching_one_edge(gqa_bridges, world):
    model = gqa_bridges[0]
    graph = Graph.from_model(model)
    batch = make_batches(
        entity_pairs(model.tokenizer, world.records, [world.authors[0].name], 1).pairs[:3],
        3,
        0,
        "cpu",
    )[0]
    scores = attribute(model, [batch], method="eap", progress=False).scores
    edges = [
        "input->a0.h2<q>",
        "input->a1.kv0<v>",
        "a0.h1->a1.kv1<k>",
        "a0.h3->a1.kv0<v>",
        "a0.h0->a1.h3<q>",
        "input->m0",
        "a0.h2->m0",
        "a1.h0->m1",
        "m0->logits",
        "a1.h3->logits",
    ]
    eps = 1e-2
    with edge_hooks(model):
        for name in edges:
            up, down = graph.edge_index(name)
            slope = (
                edge_patched_metric(model, graph, batch, up, down, eps)
                - edge_patched_metric(model, graph, batch, up, down, -eps)
            ) / (2 * eps)
            assert float(scores[up, down]) == pytest.approx(slope, rel=2e-2, abs=2e-4), name
    assert scores.abs().max() > 1e-2  # the check above is not vacuous


def test_scores_track_patching_single_edges_of_the_trained_model(vanilla_bridge, vanilla_pairs):
    model = vanilla_bridge
    graph = Graph.from_model(model)
    batches = make_batches(vanilla_pairs.pairs, 8, 0, "cpu")
    eap = attribute(model, batches, method="eap", progress=False).scores
    eap_ig = attribute(model, batches, method="eap-ig", progress=False).scores
    order = prune.ranked(graph, eap)
    chosen = order[:6].tolist() + order[30:150:20].tolist()
    masks = []
    for flat in chosen:
        mask = graph.allowed.clone()
        mask.view(-1)[flat] = False
        masks.append(mask)
    runs = run_circuits(model, batches, masks, progress=False)
    # the effect of corrupting each edge alone
    patched = torch.tensor(runs.circuits.mean(1) - runs.clean.mean(), dtype=torch.float32)
    eap_chosen, ig_chosen = eap.view(-1)[chosen], eap_ig.view(-1)[chosen]
    assert (torch.sign(eap_chosen[:6]) == torch.sign(patched[:6])).all()
    assert torch.corrcoef(torch.stack([eap_chosen, patched]))[0, 1] > 0.8
    assert (
        torch.corrcoef(torch.stack([ig_chosen, patched]))[0, 1] > 0.95
    )  # IG is closer to patching


@contextlib.contextmanager
def weights_require_grad(model):
    """TransformerLens's attribution_patch differentiates through weights that require grad."""
    for parameter in model.parameters():
        parameter.requires_grad_(True)
    try:
        yield
    finally:
        for parameter in model.parameters():
            parameter.requires_grad_(False)


def test_scores_equal_transformer_lens_edge_attribution(vanilla_bridge, vanilla_pairs):
    from transformer_lens.tools.analysis.attribution_patching import (
        EdgeAttributionConfig,
        attribution_patch,
    )

    model = vanilla_bridge
    graph = Graph.from_model(model)
    pairs = vanilla_pairs.pairs[:2]
    ours = attribute(model, make_batches(pairs, 2, 0, "cpu"), method="eap", progress=False).scores
    theirs = torch.zeros_like(ours)
    writer = {
        "embed": lambda n: "input",
        "attn_head_out": lambda n: f"a{n.layer}.h{n.head}",
        "mlp_out": lambda n: f"m{n.layer}",
    }
    reader = {"q_input": graph.q_cols, "k_input": graph.k_cols, "v_input": graph.v_cols}
    with weights_require_grad(model):
        for batch in make_batches(pairs, 1, 0, "cpu"):
            # TransformerLens scores (clean − corrupt) · grad at corrupt (denoising); swapping the
            # inputs gives (corrupt − clean) · grad at clean, our noising EAP. Its edges are per
            # position; ours sum over positions.
            result = attribution_patch(
                model,
                batch.corrupted,
                batch.clean,
                lambda logits, b=batch: metric_per_pair("logit_diff", logits, b).sum(),
                EdgeAttributionConfig(granularity="edge"),
            )
            for (source, target), score in result.edge_scores.items():
                up = graph.upstream_names.index(writer[source.kind](source))
                if target.kind == "logits":
                    down = graph.logits_col
                elif target.kind == "mlp_in":
                    down = graph.mlp_col(target.layer)
                else:
                    down = reader[target.kind](target.layer).start + target.head
                theirs[up, down] += score / len(pairs)
    assert ((theirs != 0) <= graph.allowed).all()  # TransformerLens defines no edge we lack
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    assert ours.abs().max() > 0.5


def test_grouped_key_value_scores_equal_the_group_sum_of_an_explicit_expansion(gqa_bridges, world):
    grouped_model, expanded_model = gqa_bridges
    pairs = entity_pairs(grouped_model.tokenizer, world.records, [world.authors[1].name], 1).pairs[
        :4
    ]
    batches = make_batches(pairs, 4, 0, "cpu")
    grouped = attribute(grouped_model, batches, method="eap-ig", ig_steps=3, progress=False)
    expanded = attribute(expanded_model, batches, method="eap-ig", ig_steps=3, progress=False)
    g, e = grouped.graph, expanded.graph
    assert (g.n_kv_heads, e.n_kv_heads) == (2, 4)
    group = g.group_size
    for layer in range(g.n_layers):
        for cols_g, cols_e in (
            (g.k_cols(layer), e.k_cols(layer)),
            (g.v_cols(layer), e.v_cols(layer)),
        ):
            summed = expanded.scores[:, cols_e].reshape(-1, g.n_kv_heads, group).sum(-1)
            torch.testing.assert_close(grouped.scores[:, cols_g], summed, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(
            grouped.scores[:, g.q_cols(layer)],
            expanded.scores[:, e.q_cols(layer)],
            rtol=1e-4,
            atol=1e-6,
        )
        torch.testing.assert_close(
            grouped.scores[:, g.mlp_col(layer)],
            expanded.scores[:, e.mlp_col(layer)],
            rtol=1e-4,
            atol=1e-6,
        )
    torch.testing.assert_close(
        grouped.scores[:, g.logits_col], expanded.scores[:, e.logits_col], rtol=1e-4, atol=1e-6
    )
    # the members of a group are not interchangeable, so summing is not a no-op
    first_k = expanded.scores[:, e.k_cols(1)]
    assert (first_k[:, 0] - first_k[:, 1]).abs().max() > 1e-4


def test_batching_and_chunking_leave_the_scores_unchanged(vanilla_bridge, vanilla_pairs):
    pairs = vanilla_pairs.pairs[:3]  # different relations: prompts of different lengths, padded
    reference = attribute(
        vanilla_bridge,
        make_batches(pairs, 3, 0, "cpu"),
        method="eap-ig",
        ig_steps=2,
        progress=False,
    )
    chunked = attribute(
        vanilla_bridge,
        make_batches(pairs, 2, 0, "cpu"),
        method="eap-ig",
        ig_steps=2,
        layers_per_chunk=3,
        positions_per_chunk=9,
        per_pair=True,
        progress=False,
    )
    torch.testing.assert_close(chunked.scores, reference.scores, rtol=1e-4, atol=1e-5)
    # each pair's own scores average to the scores, and equal the pair scored on its own
    torch.testing.assert_close(chunked.per_pair.mean(0), reference.scores, rtol=1e-4, atol=1e-5)
    alone = attribute(
        vanilla_bridge,
        make_batches(pairs[2:], 1, 0, "cpu"),
        method="eap-ig",
        ig_steps=2,
        progress=False,
    )
    torch.testing.assert_close(chunked.per_pair[2], alone.scores, rtol=1e-4, atol=1e-5)
    assert (chunked.per_pair[0] - chunked.per_pair[2]).abs().max() > 1e-3
    torch.testing.assert_close(
        chunked.subject_scores, reference.subject_scores, rtol=1e-4, atol=1e-5
    )
    one_step = attribute(
        vanilla_bridge,
        make_batches(pairs, 3, 0, "cpu"),
        method="eap-ig",
        ig_steps=1,
        progress=False,
    )
    eap = attribute(vanilla_bridge, make_batches(pairs, 3, 0, "cpu"), method="eap", progress=False)
    torch.testing.assert_close(one_step.scores, eap.scores)
    # the subject part of an edge out of the input embedding is all of it (only the name differs)
    torch.testing.assert_close(reference.subject_scores[0], reference.scores[0])


def test_kl_needs_integrated_gradients(vanilla_bridge, vanilla_pairs):
    batches = make_batches(vanilla_pairs.pairs[:1], 1, 0, "cpu")
    with pytest.raises(UserError, match="use --method eap-ig with kl"):
        attribute(vanilla_bridge, batches, method="eap", metric="kl", progress=False)
    scores = attribute(
        vanilla_bridge, batches, method="eap-ig", metric="kl", ig_steps=2, progress=False
    ).scores
    assert scores.abs().max() > 0
