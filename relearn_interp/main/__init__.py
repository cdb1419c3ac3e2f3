"""The main job (`relearn-interp reproduce`): train, evaluate and analyse every method, then report.

`settings` says what it runs (`ReproduceSettings`), `stages` builds each stage's work, `cache`
skips the stages whose inputs are unchanged, and `job` runs them in order and redraws the report.
"""
