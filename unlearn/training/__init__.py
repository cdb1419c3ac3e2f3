"""Training: the one loop (`loop`) and its settings (`config`), data, checkpoints and stop rule;
`run` unlearns a checkpoint (`unlearn train`), `finetune` makes the vanilla model, and `attack`
is the one relearning attack the eval and the erasure probe share."""
