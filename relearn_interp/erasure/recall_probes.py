"""Recall under attack: greedy generation scored by the project's recall matcher, in float32, with
the weights as they are or quantized (simulated int8/int4 round-to-nearest).

Recall goes through the `unlearn.recall.recall` module (not a copy of its matcher), so every change
to what counts as stating the fact applies here too. Generation runs without autocast, on the
float32 weights the pipeline loads: bfloat16 is itself a precision attack (`unlearn eval
--precisions`) and would confound the others.
"""

from __future__ import annotations

from dataclasses import replace

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from unlearn.data.records import QARecord
from unlearn.errors import UserError
from unlearn.eval.robustness import QUANT_BITS, quantization_name, quantize_weights
from unlearn.recall import recall as recall_module
from unlearn.recall.generation import GenerationConfig

# Every fact in one batch: decoding is memory-bound on a CPU, so fewer, wider steps are faster.
GENERATION = GenerationConfig(batch_size=64)
RECALL_BACKEND = (
    "unlearn.recall.recall.fact_recall: greedy answer (float32) states the gold object "
    "(the project's matcher; exact-string matching counts near misses as forgotten)"
)


def recall_details(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    generation: GenerationConfig = GENERATION,
) -> dict[str, dict]:
    """id -> {"recalled", "generated"} for each record (empty input, empty output)."""
    if not records:
        return {}
    _, details = recall_module.fact_recall(
        model, tokenizer, records, replace(generation, sample=False), progress=False
    )
    return {
        d["id"]: {"recalled": bool(d["recalled"]), "generated": d["generated"]} for d in details
    }


def check_bits(bits: tuple[int, ...]) -> tuple[int, ...]:
    for value in bits:
        if value not in QUANT_BITS:
            raise UserError(
                f"--bits {value} is not supported; valid: {', '.join(map(str, QUANT_BITS))}"
            )
    return bits


def quantized_recall(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    records: list[QARecord],
    bits: int,
    generation: GenerationConfig = GENERATION,
) -> dict[str, dict]:
    """Recall of `records` by a copy of the model whose linear weights are quantized to `bits`."""
    if not records:
        return {}
    quantized = quantize_weights(model, bits)
    try:
        return recall_details(quantized, tokenizer, records, generation)
    finally:
        del quantized


def quantization_backend(bits: tuple[int, ...]) -> dict[str, str]:
    return {f"int{b}": quantization_name(b) for b in bits}
