"""Is forgotten knowledge erased, or only suppressed? Probes of unlearned checkpoints against the
model before unlearning: lens recovery, patching depth, relearning and quantization (docs/erasure.md).

`pipeline.erasure` runs them and returns one results dict; `judge.erasure_table` turns it into the
report's table, judgements and the claim's comparisons, computed once (the Claim row itself:
`relearn_interp.claims.erasure`).
"""
