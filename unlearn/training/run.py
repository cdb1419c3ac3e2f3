"""`train(...)` (and `unlearn train`): unlearn a checkpoint and write it.

The loop is `unlearn.training.loop.TrainLoop`, its settings `unlearn.training.config.TrainConfig`,
its data `unlearn.training.data`, its checkpoints `unlearn.training.checkpoint` and the
forget-target stop rule `unlearn.training.stop_rule`. Reliability: checkpoints replace the output
folder atomically; a NaN/inf loss or gradient stops the run before the update and keeps the last
good checkpoint; Ctrl-C saves the last completed step; `resume=True` continues an interrupted run
to the same weights.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import torch

from unlearn.errors import UserError
from unlearn.io import check_output_dir, versions
from unlearn.methods import get_method
from unlearn.models.card import preset_of, read_card
from unlearn.models.loading import load_model
from unlearn.training.checkpoint import (
    ADAPTER_DIR,
    RESUME_FILE,
    CheckpointWriter,
    check_tokenizer,
    model_reference,
    resumable_card,
)
from unlearn.training.config import TrainConfig, resolved_precision
from unlearn.training.data import encode_pairs, load_train_data
from unlearn.training.loop import TrainingDiverged, TrainLoop
from unlearn.training.stop_rule import ForgetTarget

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _stop_rule(config: TrainConfig, data, tokenizer, resume: bool) -> ForgetTarget | None:
    if config.stop_at_recall is None:
        return None
    if resume:
        raise UserError(
            "--resume does not combine with a forget target (--stop-at-recall): the recall "
            "trace and best weights live in memory; rerun the training instead"
        )
    return ForgetTarget(
        data.forget_records,
        tokenizer,
        config.stop_at_recall,
        config.check_every,
        config.check_near_target,
    )


def train(
    method: str,
    model: str | Path,
    forget: str | Path,
    retain: str | Path | None,
    out: str | Path,
    config: TrainConfig,
    relearn_data: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
) -> dict:
    """Unlearn `model` with `method` and write the checkpoint to `out`; returns its card.

    Data are specs (`ours:DIR#split`, `tofu:PATH`, ...); `relearn_data` is the JSONL from
    `unlearn augment` (or any QA spec). `resume=True` continues the incomplete run in `out`.
    With `config.stop_at_recall` the run stops at that forget recall (see `unlearn.training.stop_rule`).
    """
    chosen = get_method(method)
    config.check()
    config, precision = resolved_precision(config)
    check_tokenizer(model)
    out = Path(out)
    data = load_train_data(chosen, forget, retain, relearn_data)
    reference_spec = model_reference(model)
    if resume:
        resumable_card(out, method, config, data.hashes, reference_spec)
    else:
        check_output_dir(out, overwrite)
    start, tokenizer = load_model(model, dtype=DTYPES[config.dtype])
    stop = _stop_rule(config, data, tokenizer, resume)
    trainable, frozen = start, None
    if resume and not config.lora:
        trainable, frozen = load_model(out, dtype=DTYPES[config.dtype])[0], start
    loop = TrainLoop(
        trainable,
        chosen,
        encode_pairs(tokenizer, data.items, config.max_length),
        encode_pairs(tokenizer, data.retain, config.max_length),
        config,
        tokenizer.pad_token_id,
        reference=frozen,
    )
    if resume:
        if config.lora:
            loop.load_adapter(out / ADAPTER_DIR)
        loop.load_state_dict(
            torch.load(out / RESUME_FILE, map_location=loop.accelerator.device, weights_only=True)
        )
    card = {
        "base": preset_of(model) or reference_spec,
        "model": reference_spec,
        "method": method,
        "hyperparameters": asdict(config),
        "precision": precision,
        "data": data.specs,
        "data_hash": data.hashes,
        "seed": config.seed,
        "versions": versions(),
    }
    writer = CheckpointWriter(out, tokenizer, card, config.save_every)
    writer.saved_step = loop.step if resume else None
    try:
        if stop is None:
            loop.run(on_step=writer.on_step)
        else:
            _run_to_target(loop, stop, writer)
    except TrainingDiverged as err:
        kept = (
            f"kept the last good checkpoint {out} (step {writer.saved_step})"
            if writer.saved_step
            else "no checkpoint had been saved yet"
        )
        raise TrainingDiverged(
            f"training diverged: {err}; {kept}; lower --lr, add a retain term "
            "(*_gdr, *_klr) or save more often (--save-every)"
        ) from None
    except KeyboardInterrupt:
        _save_on_interrupt(loop, writer, out)
        raise
    return read_card(out)


def _run_to_target(loop: TrainLoop, stop: ForgetTarget, writer: CheckpointWriter) -> None:
    """Check before the first step, train until the target (or the cap), keep the chosen step."""
    if not stop.check(loop):
        loop.run(on_step=stop)
    loop.finished = True
    if not stop.reached:
        stop.restore_best(loop)
    reason = "forget target reached" if stop.reached else "step cap; best checked step kept"
    writer.save(loop, stopped=reason, extra=stop.card())


def _save_on_interrupt(loop: TrainLoop, writer: CheckpointWriter, out: Path) -> None:
    """Ctrl-C: save the last completed step (single process, not mid-update) for --resume."""
    if loop.updating or loop.accelerator.num_processes > 1 or loop.step in (0, writer.saved_step):
        return
    writer.save(loop, stopped="interrupted")
    print(
        f"saved step {loop.step}/{loop.total_steps} to {out}; continue with --resume",
        file=sys.stderr,
    )
