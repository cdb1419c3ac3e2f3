"""Logit lens ("knowledge memory"): decode every layer's residual stream into tokens.

`decode` turns residual vectors into next-token statistics exactly as the model's output head
does, `run` decodes a model's layers at the gold answer positions (`run.logit_lens`), and
`summary` reduces per-prompt records to per-site means and where the gold token surfaces.
"""
