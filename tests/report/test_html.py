"""The HTML report: pages and figures rendered from saved results alone."""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path

import pytest

import theorylab as tl
from theorylab.experiments.params import field_specs
from theorylab.report.html import load_results, save_results, write_report
from theorylab.theory.fixed_point import SolverStatus

EXPERIMENTS = {"bayes_extensive": tl.get("bayes_extensive")}


@pytest.fixture(scope="module")
def small_results():
    main = tl.run("bayes_extensive", {"d": 60, "n_test": 400, "draws": 1}, seeds=4)
    wide = tl.run(
        "bayes_extensive",
        {"d": 60, "n_test": 400, "gamma": 3.0, "alpha": (1.0,), "draws": 1},
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


# --------------------------------------------------------------------------------------------
# The index: one card per paper of the catalogue (results built from stored data, no simulation)
# --------------------------------------------------------------------------------------------


def card(index_text: str, slug: str) -> str:
    """The HTML of the card of ``slug`` in an index page."""
    start = index_text.index(f"data-slug='{slug}'")
    return index_text[start : index_text.index("</section>", start)]


def test_every_catalogue_paper_has_a_card_that_says_what_it_is(tmp_path: Path, stored_results):
    from theorylab.catalogue import PAPERS
    from theorylab.runner.registry import all_experiments

    run = ["bayes_extensive", "flow_gmm"]
    save_results(tmp_path, [stored_results[s] for s in run])
    text = write_report(tmp_path, all_experiments(), figures=False).read_text()
    assert text.count("<section class='card") == len(PAPERS)
    for p in PAPERS:
        c = card(text, p.slug)
        if p.slug in run:
            assert "PASS" in c and f"{p.slug}/index.html" in c
        elif p.slug in all_experiments():
            assert "NOT RUN" in c and f"theorylab reproduce {p.slug}" in c
        else:
            assert "NOT IMPLEMENTED" in c


def test_a_card_has_figure_checks_reasons_parameters_seeds_and_timings(
    tmp_path: Path, stored_results
):
    exp = tl.get("flow_gmm")
    result = stored_results["flow_gmm"]
    save_results(tmp_path, [result])
    c = card(write_report(tmp_path, {"flow_gmm": exp}).read_text(), "flow_gmm")
    assert "<img class=figure src='flow_gmm/figure.png'" in c and "class=thumb" not in c
    assert c.count("<tr class=pass>") == len(result.checks)
    for reason in {r.reason for r in result.checks}:
        assert c.count(html.escape(reason, quote=True)) == 1  # once, as a numbered note
    assert c.count("<a class=note") == len(result.checks)
    for name, spec in field_specs(exp.params).items():
        assert f"<dt>{name}</dt>" in c and html.escape(spec.description) in c
    assert f"seeds 0–{result.simulation.seeds - 1}" in c and "theory 0.00 s" in c
    assert "resolution" in c and "%" in c


def test_failed_checks_and_failed_runs_are_marked_fail(tmp_path: Path, stored_results):
    from tests.report.stored import with_wrong_theory

    exp = tl.get("bayes_extensive")
    good = stored_results["bayes_extensive"]
    wrong = with_wrong_theory(good, exp, "nmse_ridge_opt", 1.05)
    unconverged = dataclasses.replace(
        good, variant="unconverged", solver=SolverStatus(False, 500, 3e-2, "damped", "")
    )
    empty = dataclasses.replace(good, variant="nochecks", checks=())
    save_results(tmp_path, [good, wrong, unconverged, empty])
    text = write_report(tmp_path, {"bayes_extensive": exp}, figures=False).read_text()
    c = card(text, "bayes_extensive")
    assert "class='card fail'" in text and "data-status='FAIL'" in c
    n_failed = sum(not r.passed for r in wrong.checks)
    assert n_failed and c.count("<tr class=fail>") == n_failed
    assert c.count('<span class="fail">FAIL</span>') == 1 + 3 + n_failed  # paper, runs, rows
    assert "theory did not converge (residual 3.0e-02)" in c
    assert "no check ran (zero checks is a failure)" in c
    page = (tmp_path / "bayes_extensive" / "index.html").read_text()
    assert page.count("<tr class=fail>") == n_failed


def test_a_figure_that_fails_to_draw_is_reported_not_raised(tmp_path: Path, stored_results):
    def broken(result):
        raise RuntimeError("no data to plot")

    exp = dataclasses.replace(tl.get("flow_gmm"), figure=broken)
    save_results(tmp_path, [stored_results["flow_gmm"]])
    text = write_report(tmp_path, {"flow_gmm": exp}).read_text()
    assert "figure could not be drawn: RuntimeError: no data to plot" in card(text, "flow_gmm")
