"""Numbers written into result JSON: six significant digits, NaN as null where asked."""

import math

from unlearn.io import json_number, json_number_or_none


def test_json_numbers_keep_six_significant_digits():
    assert json_number(1 / 3) == 0.333333
    assert json_number(123456789.0) == 123457000.0
    assert json_number(-2.5e-9) == -2.5e-9
    assert math.isnan(json_number(math.nan))


def test_not_computed_values_become_null():
    assert json_number_or_none(math.nan) is None
    assert json_number_or_none(2 / 3) == 0.666667
