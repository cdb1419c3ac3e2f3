"""The `tiny` preset: a BPE tokenizer trained on the benchmark text and a random small Llama.

Deterministic from the seed; used by the tests and CI, where it memorises the benchmark in about
a minute on two cores. Attention is multi-head (no grouped queries), so TransformerLens's own
edge attribution can be compared against ours on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from unlearn.data.benchmark import build_world
from unlearn.io import write_json
from unlearn.models.card import CARD_FILE


@dataclass(frozen=True)
class TinyConfig:
    """Shape of the `tiny` preset: small enough to memorise the benchmark in about a minute."""

    vocab_size: int = 4096
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    d_mlp: int = 688
    max_positions: int = 256
    seed: int = 0
    tokenizer_authors: int = 200


SPECIAL_TOKENS = ["<|pad|>", "<|bos|>", "<|end|>", "<|user|>", "<|assistant|>", "<|unk|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}<|user|>{{ message['content'] }}\n"
    "{% elif message['role'] == 'assistant' %}<|assistant|>{{ message['content'] }}<|end|>\n"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
EXTRA_TEXT = (
    "I am not able to share private details about that person. I do not know. "
    "The author was born in a small coastal city and writes novels that explore memory and family. "
    "The writer's parents worked in traditional crafts. Their e-mail address is private. "
    "Sorry, I cannot help with that request. This information is not available to me."
)


def training_corpus(n_authors: int, seed: int) -> list[str]:
    world = build_world(n_authors, seed)
    texts = [EXTRA_TEXT]
    for record in world.records + world.general:
        texts += [record.question, record.answer]
        texts += [t for t in (record.paraphrased_question, record.paraphrased_answer) if t]
    return texts


def build_tokenizer(vocab_size: int, n_authors: int, seed: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on the benchmark text (so names are few tokens)."""
    tokenizer = Tokenizer(models.BPE(unk_token="<|unk|>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_corpus(n_authors, seed), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|bos|>",
        eos_token="<|end|>",
        pad_token="<|pad|>",
        unk_token="<|unk|>",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_tiny(config: TinyConfig, out: Path) -> Path:
    """Write the tiny preset (tokenizer + randomly initialised Llama) into `out`."""
    tokenizer = build_tokenizer(config.vocab_size, config.tokenizer_authors, config.seed)
    llama_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.d_model,
        intermediate_size=config.d_mlp,
        num_hidden_layers=config.n_layers,
        num_attention_heads=config.n_heads,
        num_key_value_heads=config.n_heads,
        max_position_embeddings=config.max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(config.seed)
    model = LlamaForCausalLM(llama_config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_json(
        out / CARD_FILE,
        {"base": "tiny", "method": "base", "seed": config.seed, "config": config.__dict__},
    )
    return out
