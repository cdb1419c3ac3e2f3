"""ReLearn's data pipeline: question/answer augmentation, leak verification, completion, mixing.

`augment(...)` writes one JSONL training file plus `<FILE>.stats.json`; `load_relearn_rows(path)`
reads the file back for training; `quality_table(stats)` gives the file's quality figures as
report rows.
"""

from unlearn.augment.backends import BackendOptions, make_backend
from unlearn.augment.pipeline import AugmentConfig, augment, mix_general, stats_path
from unlearn.augment.quality import is_refusal, quality_table
from unlearn.augment.rows import KINDS, ORIGINAL_KIND, Row, completion_row, load_relearn_rows

__all__ = [
    "KINDS",
    "ORIGINAL_KIND",
    "AugmentConfig",
    "BackendOptions",
    "Row",
    "augment",
    "completion_row",
    "is_refusal",
    "load_relearn_rows",
    "make_backend",
    "mix_general",
    "quality_table",
    "stats_path",
]
