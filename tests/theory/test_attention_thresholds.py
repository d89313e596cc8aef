"""Root bracketing of the attention model's thresholds (the solves themselves are tested
through the experiment's default theory: α_c, α_l and the root property)."""

from __future__ import annotations

import math

from theorylab.theory.attention_thresholds import first_root


def test_first_root_takes_the_first_sign_change_from_positive_to_negative():
    values = {0.8: 1.0, 1.0: -1.0, 1.5: 1.0, 2.0: -2.0}
    got = first_root(values, lambda v: v, lambda lo, hi: ((lo[0], hi[0]), ["status"], None))
    assert got == ((0.8, 1.0), ["status"], None)


def test_first_root_without_a_crossing_is_nan():
    root, statuses, at = first_root({1.0: -1.0, 2.0: -2.0}, lambda v: v, None)
    assert math.isnan(root) and statuses == [] and at is None
    root, _, _ = first_root({1.0: math.nan, 2.0: math.nan}, lambda v: v, None)
    assert math.isnan(root)
