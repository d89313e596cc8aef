"""The HTML report: pages and figures rendered from saved results alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import theorylab as tl
from theorylab.report.html import load_results, save_results, write_report

EXPERIMENTS = {"bayes_extensive": tl.get("bayes_extensive")}


@pytest.fixture(scope="module")
def small_results():
    main = tl.run("bayes_extensive", {"d": 60, "n_test": 400}, seeds=4)
    wide = tl.run(
        "bayes_extensive",
        {"d": 60, "n_test": 400, "gamma": 3.0, "alpha": (1.0,)},
        seeds=4,
        variant="wide",
    )
    return [main, wide]


def test_results_round_trip(tmp_path: Path, small_results):
    save_results(tmp_path, small_results)
    loaded = load_results(tmp_path, EXPERIMENTS)
    assert list(loaded) == ["bayes_extensive"]
    assert [r.variant for r in loaded["bayes_extensive"]] == ["main", "wide"]
    assert loaded["bayes_extensive"][0].to_dict() == small_results[0].to_dict()


def test_report_pages_and_figures(tmp_path: Path, small_results):
    save_results(tmp_path, small_results)
    index = write_report(tmp_path, EXPERIMENTS)
    text = index.read_text()
    assert "bayes_extensive/index.html" in text and "bayes_extensive/figure.png" in text
    n_checks = sum(len(r.checks) for r in small_results)
    n_pass = sum(c.passed for r in small_results for c in r.checks)
    assert f"{n_pass}/{n_checks} checks" in text
    assert "deep_random_features" in text  # listed as not in this report
    page = (tmp_path / "bayes_extensive" / "index.html").read_text()
    for c in small_results[0].checks:
        assert c.observable in page
    png = tmp_path / "bayes_extensive" / "figure.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert (tmp_path / "bayes_extensive" / "figure.svg").read_text().lstrip().startswith("<?xml")
    json.loads((tmp_path / "bayes_extensive" / "main.json").read_text())  # strict JSON
    assert "resolution" in page and "from" in page


def test_a_foreign_or_broken_result_file_is_skipped_with_its_path(tmp_path: Path, small_results):
    save_results(tmp_path, small_results)
    (tmp_path / "bayes_extensive" / "broken.json").write_text('{"slug": "bayes_extensive", "pa')
    with pytest.warns(UserWarning, match="broken.json"):
        loaded = load_results(tmp_path, EXPERIMENTS)
    assert [r.variant for r in loaded["bayes_extensive"]] == ["main", "wide"]


def test_report_does_not_import_the_runner():
    import ast
    import inspect

    import theorylab.report.html as html_module

    tree = ast.parse(inspect.getsource(html_module))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not any(m.startswith(("theorylab.runner", "theorylab.cli")) for m in imported)
