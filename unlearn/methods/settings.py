"""What the loss terms read from a run's settings (`unlearn.training.config.TrainConfig` has
every field), declared here so that the methods sit below the training loop."""

from __future__ import annotations

from typing import Protocol


class LossSettings(Protocol):
    """Loss weights and shapes: `beta` (NPO's temperature), the weights of the forget term, CE_r
    and KL_r, and which positions KL_r averages over (`answer` or `all`)."""

    beta: float
    forget_weight: float
    retain_weight: float
    kl_weight: float
    kl_positions: str
