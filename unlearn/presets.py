"""Names the CLIs offer as choices, kept light (no torch) because they build their --help from it:
the embedded model presets and the mixed-precision modes (`unlearn.precision` resolves them)."""

PRESETS: tuple[str, ...] = ("tiny", "smollm2-135m")
RANDOM_INIT_PRESETS: tuple[str, ...] = ("tiny",)  # built from a seed, not pretrained
MIXED_PRECISION: tuple[str, ...] = ("auto", "no", "bf16")
