"""Fixtures of the report tests: results of every registered paper from stored data."""

from __future__ import annotations

import pytest

from tests.report.stored import stored_result
from theorylab.runner.registry import all_experiments


@pytest.fixture(scope="session")
def stored_results():
    """The main quick run of every registered experiment with stored data, by slug."""
    out = {}
    for slug, exp in all_experiments().items():
        r = stored_result(exp)
        if r is not None:
            out[slug] = r
    return out
