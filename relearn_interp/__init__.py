"""relearn_interp: mechanism analyses (logit lens, distribution shift, knowledge circuits) of unlearned checkpoints."""

__version__ = "0.1.0"
