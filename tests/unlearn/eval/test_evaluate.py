"""`unlearn eval` end to end on the tiny vanilla model, and its handling of bad input."""

from __future__ import annotations

import json
import math
import time

import pytest

from unlearn.cli import main
from unlearn.errors import UserError
from unlearn.eval.backends.entities import KBEntities
from unlearn.eval.backends.judge import ProxyJudge
from unlearn.eval.backends.kb import KnowledgeBase
from unlearn.eval.backends.nli import KBNLI
from unlearn.eval.context import EvalConfig
from unlearn.eval.evaluate import evaluate
from unlearn.eval.metrics.kfr_krr import Thresholds
from unlearn.eval.scoring import FORGET, Scorer
from unlearn.models.loading import load_model
from unlearn.recall.generation import GenerationConfig

FAST = GenerationConfig(max_new_tokens=32, batch_size=64)


@pytest.mark.integration
def test_full_eval_of_the_vanilla_model_with_quantization(
    vanilla_ckpt, bench_dir, tmp_path, capsys
):
    out = tmp_path / "vanilla.json"
    started = time.time()
    code = main(
        [
            "eval",
            "--model",
            str(vanilla_ckpt),
            "--forget",
            f"ours:{bench_dir}#forget10",
            "--retain",
            f"ours:{bench_dir}#retain90",
            "--out",
            str(out),
            "--batch-size",
            "64",
            "--max-new-tokens",
            "32",
            "--quantize",
            "4",
        ]
    )
    elapsed = time.time() - started
    assert code == 0, capsys.readouterr().err
    results = json.loads(out.read_text())
    forget, retain = results["values"]["forget"], results["values"]["retain"]
    assert (forget["n"], retain["n"]) == (22, 198)
    # the vanilla model knows its facts: little forgotten, most retained
    assert forget["KFR"] <= 0.2 and forget["fact_recall"] >= 0.8
    assert retain["KRR"] >= 0.8 and retain["fact_recall"] >= 0.8
    assert retain["rougeL_recall"] >= 0.8
    assert 0 < retain["LS"] < 1 and 0 < retain["LS_harmonic"] <= retain["LS"]
    assert 1 <= retain["fluency_proxy"] <= 5 and 1 <= retain["relevance_proxy"] <= 5
    assert retain["PPL"] < 5  # the vanilla model scores its own memorised answers
    int4 = results["values"]["robustness"]["int4"]
    assert abs(int4["retain"]["KRR"] - retain["KRR"]) <= 0.5 and int4["forget"]["n"] == 22
    meta = results["meta"]
    assert meta["backends"]["nli"].startswith("kb (knowledge-base proxy for deberta")
    assert (
        "proxy" in meta["backends"]["judge"]
        and "the checkpoint itself (a vanilla model)" in meta["backends"]["ppl"]
    )
    assert "rtn-int4" in meta["robustness"]["int4"] and meta["method"] == "vanilla"
    assert set(meta["data_hash"]) == {"forget", "retain"} and "torch" in meta["versions"]
    item = results["items"]["retain"][0]
    assert {
        "generated",
        "nli",
        "ecs",
        "entities_gold",
        "retained",
        "ppl",
        "brunet",
        "honore",
    } <= set(item)
    assert "int4" in results["items"]["robustness"]
    printed = capsys.readouterr().out
    assert "clean: forget.KFR" in printed and "int4:" in printed
    print(f"full eval of the tiny vanilla model: {elapsed:.1f} s")


@pytest.mark.integration
def test_relearn_jailbreak_and_precision_attacks_end_to_end(vanilla_ckpt, bench_dir, tmp_path):
    config = EvalConfig(
        generation=FAST,
        limit=8,
        precisions=("bfloat16",),
        jailbreak="aim",
        relearn_steps=2,
        paraphrased=True,
        progress=False,
    )
    results = evaluate(
        vanilla_ckpt,
        f"ours:{bench_dir}#forget10",
        f"ours:{bench_dir}#retain90",
        tmp_path / "attacks.json",
        config,
    )
    robustness = results["values"]["robustness"]
    assert set(robustness) == {"bfloat16", "jailbreak_aim", "relearn_baseline", "relearn"}
    assert (
        robustness["relearn"]["forget"]["n"] == robustness["relearn_baseline"]["forget"]["n"] == 4
    )
    assert 0 <= robustness["relearn"]["trained_half"]["fact_recall"] <= 1
    assert (
        "trimmed" in results["meta"]["robustness"]["jailbreak_aim"]
    )  # tiny context: 256 positions
    assert "2 full-batch fine-tuning steps (lr 0.0003)" in results["meta"]["robustness"]["relearn"]
    paraphrased = results["values"]["forget_paraphrased"]
    assert paraphrased["n"] == 8 and 0 <= paraphrased["fact_recall"] <= 1
    asked = [i["question"] for i in results["items"]["forget_paraphrased"]]
    assert asked[0] != results["items"]["forget"][0]["question"]
    assert set(robustness["bfloat16"]) == {"forget"}  # the precision check scores KFR only
    assert robustness["bfloat16"]["forget"]["n"] == 8
    assert "rounded to bfloat16, computed in float32" in results["meta"]["robustness"]["bfloat16"]


def test_missing_model_folder_is_a_one_line_error(bench_dir, tmp_path, capsys):
    code = main(
        [
            "eval",
            "--model",
            str(tmp_path / "nope"),
            "--forget",
            f"ours:{bench_dir}#forget10",
            "--retain",
            f"ours:{bench_dir}#retain90",
            "--out",
            str(tmp_path / "r.json"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "nope" in err and "Traceback" not in err


@pytest.mark.integration
def test_bad_options_and_existing_output(tiny_base, bench_dir, tmp_path):
    data = (f"ours:{bench_dir}#forget10", f"ours:{bench_dir}#retain90")
    with pytest.raises(UserError, match="unknown precision 'fp8'"):
        evaluate(tiny_base, *data, tmp_path / "a.json", EvalConfig(precisions=("fp8",)))
    with pytest.raises(UserError, match="unknown NLI backend"):
        evaluate(
            tiny_base,
            *data,
            tmp_path / "a.json",
            EvalConfig(nli="deberta", limit=1, progress=False),
        )
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(UserError, match="--overwrite"):
        evaluate(tiny_base, *data, tmp_path / "b.json", EvalConfig())


@pytest.mark.integration
def test_empty_generations_are_counted_and_nan_ppl_excluded(world, tiny_base, embedder):
    model, tokenizer = load_model(tiny_base)
    kb = KnowledgeBase.for_records(world.records)
    scorer = Scorer(
        KBEntities(kb),
        embedder,
        KBNLI(kb),
        ProxyJudge(embedder),
        Thresholds(),
        model,
        tokenizer,
        progress=False,
    )
    records = world.split("forget10")[:3]
    values, items = scorer.score(FORGET, records, ["", records[1].answer, "   "])
    assert values["n_empty"] == 2 and values["n_nan_ppl"] == 2
    assert math.isnan(items[0]["ppl"]) and values["PPL"] == pytest.approx(items[1]["ppl"])
    assert items[0]["brunet"] == 1000.0 and items[0]["fluency_proxy"] == 1.0
    assert values["KFR"] == pytest.approx(2 / 3)


@pytest.mark.integration
def test_a_scorer_with_another_tokenizer_is_allowed_and_said(tiny_base, bench_dir, tmp_path):
    model, tokenizer = load_model(tiny_base)
    tokenizer.add_tokens(["<extra-token>"])
    model.resize_token_embeddings(len(tokenizer))
    model.save_pretrained(tmp_path / "scorer")
    tokenizer.save_pretrained(tmp_path / "scorer")
    config = EvalConfig(
        generation=GenerationConfig(max_new_tokens=8),
        scorer=str(tmp_path / "scorer"),
        limit=2,
        judge="none",
        progress=False,
    )
    results = evaluate(
        tiny_base,
        f"ours:{bench_dir}#forget10",
        f"ours:{bench_dir}#retain90",
        tmp_path / "r.json",
        config,
    )
    assert any("different tokenizer" in w for w in results["meta"]["warnings"])
    assert results["meta"]["backends"]["judge"] == "none" and "fluency" not in str(
        results["values"]
    )


@pytest.mark.integration
def test_the_kept_checks_answers_are_the_clean_forget_answers(vanilla_ckpt, bench_dir, tmp_path):
    """A stop-rule checkpoint's eval takes the kept check's answers when it would ask the same,
    and they are the answers it would have generated."""
    from unlearn.data.loaders import load_data
    from unlearn.io import write_json
    from unlearn.training.config import TrainConfig
    from unlearn.training.run import train

    records = load_data(f"ours:{bench_dir}#forget10")[:8]
    write_json(tmp_path / "forget.json", [r.to_json() for r in records])
    forget, retain = f"ours:{tmp_path / 'forget.json'}", f"ours:{bench_dir}#retain90"
    config = TrainConfig.for_preset(
        vanilla_ckpt, "ga", lr=3e-3, batch_size=4, stop_at_recall=0.5, check_every=2, epochs=4
    )
    train("ga", vanilla_ckpt, forget, None, tmp_path / "ga", config)
    results = {}
    for batch in (64, 16):  # 64: the check's settings; 16: generated (8 questions: one batch too)
        eval_config = EvalConfig(
            generation=GenerationConfig(batch_size=batch), limit=8, progress=False
        )
        results[batch] = evaluate(
            tmp_path / "ga", forget, retain, tmp_path / f"{batch}.json", eval_config
        )
    taken, generated = results[64], results[16]
    assert "the stop rule's check at the kept step" in taken["meta"]["clean_forget_answers"]
    assert generated["meta"]["clean_forget_answers"] == "generated by this eval"
    answers = [[item["generated"] for item in r["items"][FORGET]] for r in (taken, generated)]
    assert answers[0] == answers[1]
    for key in ("KFR", "fact_recall", "fact_recall_exact", "rougeL_recall"):
        assert taken["values"][FORGET][key] == generated["values"][FORGET][key], key
