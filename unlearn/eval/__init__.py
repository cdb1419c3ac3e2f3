"""Evaluation: generation, metrics and their backends, robustness checks."""
