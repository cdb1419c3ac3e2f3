"""ReLearn's data pipeline: question/answer augmentation, leak verification, completion, mixing.

`augment(...)` writes one JSONL training file plus `<FILE>.stats.json`; `load_relearn_rows(path)`
reads the file back for training.
"""

from unlearn.augment.backends import BackendOptions, make_backend
from unlearn.augment.pipeline import AugmentConfig, augment, mix_general, stats_path
from unlearn.augment.rows import KINDS, ORIGINAL_KIND, Row, completion_row, load_relearn_rows

__all__ = [
    "KINDS",
    "ORIGINAL_KIND",
    "AugmentConfig",
    "BackendOptions",
    "Row",
    "augment",
    "completion_row",
    "load_relearn_rows",
    "make_backend",
    "mix_general",
    "stats_path",
]
