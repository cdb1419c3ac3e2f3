"""Names of the embedded model presets (kept light: the CLIs import it to build their help)."""

PRESETS: tuple[str, ...] = ("tiny", "smollm2-135m")
RANDOM_INIT_PRESETS: tuple[str, ...] = ("tiny",)  # built from a seed, not pretrained
