"""Evaluate a checkpoint: KFR, KRR, Linguistic Score, fluency/relevance, ROUGE-L recall and
exact-fact recall, with optional robustness attacks reported next to the clean numbers.

Example: unlearn eval --model ckpt/relearn --forget ours:bench#forget10 --retain ours:bench#retain90
         --out results/relearn.json --quantize 8 4 --jailbreak aim --relearn-steps 5
"""

from __future__ import annotations

import argparse

from unlearn.commands.arg_types import NON_NEGATIVE_INT, POSITIVE_INT, PROBABILITY, positive_float


def configure(parser: argparse.ArgumentParser) -> None:
    _data_arguments(parser)
    _generation_arguments(parser)
    _backend_arguments(parser)
    _robustness_arguments(parser)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing results file")


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    """The checkpoint, its forget and retain sets, and where the results go."""
    parser.add_argument(
        "--model", required=True, help="checkpoint folder (or preset, PEFT adapter folder)"
    )
    parser.add_argument(
        "--forget", required=True, help="forget set: ours:DIR#forget10, tofu:PATH, ..."
    )
    parser.add_argument(
        "--retain", required=True, help="retain set: ours:DIR#retain90, tofu:PATH, ..."
    )
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument(
        "--name", help="row name in `unlearn compare` (default: the output file's stem)"
    )


def _generation_arguments(parser: argparse.ArgumentParser) -> None:
    """How answers are generated: decoding, batch, precision, device."""
    gen = parser.add_argument_group("generation")
    gen.add_argument(
        "--decoding",
        choices=["greedy", "reference"],
        default="greedy",
        help="greedy (48 new tokens, deterministic) or the reference's: sampling at temperature "
        "0.7, top_p 0.9, top_k 5, 128 new tokens, empty answers sampled again up to twice "
        "(add --dtype float16 for its vLLM precision)",
    )
    gen.add_argument(
        "--max-new-tokens",
        type=POSITIVE_INT,
        help="new tokens per answer (default: the decoding's)",
    )
    gen.add_argument("--batch-size", type=POSITIVE_INT, default=16)
    gen.add_argument(
        "--limit", type=POSITIVE_INT, help="evaluate only the first N records of each set"
    )
    gen.add_argument(
        "--dtype", default="float32", help="precision of the clean run (float32, float16, bfloat16)"
    )
    gen.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda when available)")


def _backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Which backend computes each metric, and the KFR/KRR thresholds."""
    back = parser.add_argument_group("metric backends")
    back.add_argument(
        "--entities",
        default="kb",
        help="kb (benchmark gazetteer; the rule-based proxy for data without fact triples), "
        "proxy, openai:URL[#MODEL] or hf:PATH",
    )
    back.add_argument(
        "--embeddings", default="minilm", help="minilm (bundled all-MiniLM-L6-v2) or a local folder"
    )
    back.add_argument(
        "--nli",
        default="kb",
        help="kb (fact lookup; the proxy for data without fact triples), proxy (entity "
        "containment + MiniLM) or hf:FOLDER (local MNLI classifier)",
    )
    back.add_argument(
        "--judge", default="proxy", help="proxy (offline), none, openai:URL[#MODEL] or hf:PATH"
    )
    back.add_argument(
        "--scorer", help="model whose PPL enters the LS (default: the checkpoint's vanilla model)"
    )
    back.add_argument(
        "--world", help="benchmark folder for the kb backends (default: the data's folder)"
    )
    back.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key"
    )
    back.add_argument(
        "--theta1",
        type=PROBABILITY,
        default=0.3,
        help="KFR ECS threshold for gold answers with > 3 entities",
    )
    back.add_argument("--theta2", type=PROBABILITY, default=0.3, help="KRR ECS threshold")


def _robustness_arguments(parser: argparse.ArgumentParser) -> None:
    """The robustness attacks, each scored like the clean run."""
    attack = parser.add_argument_group("robustness (each reported next to the clean numbers)")
    attack.add_argument(
        "--precision",
        nargs="+",
        default=[],
        metavar="DTYPE",
        help="also score the forget set with the weights rounded to these precisions "
        "(float16 bfloat16; computed in float32)",
    )
    attack.add_argument(
        "--paraphrased",
        action="store_true",
        help="also score the forget set asked with its paraphrased questions (a second view of recall)",
    )
    attack.add_argument(
        "--quantize",
        nargs="+",
        type=int,
        choices=(8, 4),
        default=[],
        metavar="BITS",
        help="also evaluate with weights quantized to these bit widths (8 4)",
    )
    attack.add_argument(
        "--jailbreak", choices=["aim"], help="also evaluate with each question in the AIM prompt"
    )
    attack.add_argument(
        "--relearn-steps",
        type=NON_NEGATIVE_INT,
        default=0,
        help="relearning attack: fine-tune N steps on half the forget set, score the other half",
    )
    attack.add_argument(
        "--relearn-lr",
        type=positive_float,
        help="learning rate of the attack (default: a tenth of the base preset's fine-tuning rate)",
    )


def run(args: argparse.Namespace) -> int:
    from unlearn.devices import resolve_device
    from unlearn.eval.context import EvalConfig
    from unlearn.eval.evaluate import evaluate
    from unlearn.eval.metrics.kfr_krr import Thresholds
    from unlearn.outputs import output_lock, writable_parent
    from unlearn.recall.generation import DECODINGS, decoding

    resolve_device(args.device)  # an unavailable device fails before anything loads
    writable_parent(args.out)
    max_new = args.max_new_tokens or DECODINGS[args.decoding].max_new_tokens
    config = EvalConfig(
        generation=decoding(
            args.decoding, max_new_tokens=max_new, batch_size=args.batch_size, seed=args.seed
        ),
        entities=args.entities,
        embeddings=args.embeddings,
        nli=args.nli,
        judge=args.judge,
        scorer=args.scorer,
        world=args.world,
        api_key_env=args.api_key_env,
        dtype=args.dtype,
        precisions=tuple(args.precision),
        quantize=tuple(args.quantize),
        jailbreak=args.jailbreak,
        relearn_steps=args.relearn_steps,
        relearn_lr=args.relearn_lr,
        paraphrased=args.paraphrased,
        thresholds=Thresholds(theta1=args.theta1, theta2=args.theta2),
        limit=args.limit,
        device=args.device,
        name=args.name,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    with output_lock(args.out):
        results = evaluate(args.model, args.forget, args.retain, args.out, config)
    print(summary(results))
    print(f"saved {args.out}")
    return 0


def summary(results: dict) -> str:
    """A few headline numbers per run, one line each."""
    from unlearn.eval.compare import flatten

    flat = flatten(results["values"])
    lines = []
    for run_name in dict.fromkeys(k.split("/")[0] if "/" in k else "clean" for k in flat):
        prefix = "" if run_name == "clean" else f"{run_name}/"
        shown = [
            f"{k[len(prefix) :]} {v:.3f}"
            for k, v in flat.items()
            if k.startswith(prefix)
            and ("/" in k) == bool(prefix)
            and v is not None
            and k.rpartition(".")[2] in ("KFR", "KRR", "LS", "fact_recall")
        ]
        lines.append(f"{run_name}: " + ", ".join(shown))
    for warning in results["meta"].get("warnings", []):
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
