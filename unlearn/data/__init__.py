"""Benchmarks and loaders: every source becomes a list of `QARecord`."""

from unlearn.data.loaders import load_data
from unlearn.data.records import Fact, QARecord

__all__ = ["Fact", "QARecord", "load_data"]
