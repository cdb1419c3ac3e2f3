"""unlearn: data, unlearning methods and evaluation for the relearn-interp toolkit."""

__version__ = "0.1.0"
