"""The report as a reader sees it: opened in headless Chromium (playwright, system browser).

The report is built from stored quick-run results of every registered paper (no simulation),
plus one fed run of bayes_extensive whose theory is wrong by 5 %, so some of its checks fail.
In the browser: every image loads and is drawn wide enough to read, nothing is logged as an
error, every paper of the catalogue has a card, and the failing checks and their paper read FAIL.

Needs the Python package ``playwright`` (requirements-dev.txt) and a Chromium on the machine
(``apt-get install chromium``, or ``THEORYLAB_CHROMIUM=/path/to/chrome``); playwright's own
browser download is not used. Without either, the tests skip and say how to install them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.report.stored import with_wrong_theory
from theorylab.catalogue import PAPERS
from theorylab.report.html import save_figure, save_results, write_report
from theorylab.runner.registry import all_experiments

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Papers whose figures the fast test draws (all of them: the slow test, ~30-60 s of matplotlib).
DRAWN = ("bayes_extensive", "flow_gmm", "barron_diffusion")
#: The fed failing run: this theory observable scaled by this factor.
WRONG = ("bayes_extensive", "nmse_ridge_opt", 1.05)
#: A figure narrower than this (CSS px, 1280 px wide window) is a thumbnail, not a figure.
MIN_FIGURE_WIDTH = 700


def find_chromium() -> str | None:
    """``$THEORYLAB_CHROMIUM`` or the first Chromium/Chrome on the PATH."""
    env = os.environ.get("THEORYLAB_CHROMIUM")
    if env:
        return env
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright missing: pip install -r requirements-dev.txt"
    )
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "no Chromium found for the browser test: install one (Debian/Ubuntu: "
            "`apt-get install chromium`) or set THEORYLAB_CHROMIUM to a Chrome/Chromium binary"
        )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def build_report(out: Path, stored: dict, drawn: tuple[str, ...]) -> list:
    """Stored results + the fed failing run, figures drawn for ``drawn``; the failing rows."""
    experiments = all_experiments()
    slug, observable, scale = WRONG
    wrong = with_wrong_theory(stored[slug], experiments[slug], observable, scale)
    save_results(out, [*stored.values(), wrong])
    for s in drawn:
        save_figure(experiments[s].figure(stored[s]), out / s / "figure")
    write_report(out, experiments, figures=False)
    return [c for c in wrong.checks if not c.passed]


def open_page(browser, path: Path) -> tuple:
    """The loaded page and the errors it logged (console errors, page errors, failed loads)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"failed to load {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, errors


def image_problems(page) -> list[str]:
    """Images that did not load or are drawn too small to read."""
    images = page.eval_on_selector_all(
        "img",
        "els => els.map(e => [e.getAttribute('src'), e.complete && e.naturalWidth, "
        "e.getBoundingClientRect().width])",
    )
    return [
        f"{src}: natural width {natural}, drawn {drawn:.0f} px"
        for src, natural, drawn in images
        if not natural or drawn < MIN_FIGURE_WIDTH
    ]


def failure_problems(page, slug: str, failing: list) -> list[str]:
    """What is missing for the failing checks of ``slug`` to read FAIL (and only them)."""
    card = page.locator(f"section.card[data-slug='{slug}']")
    problems = []
    if "fail" not in (card.get_attribute("class") or "").split():
        problems.append(f"card {slug} is not marked fail")
    if "FAIL" not in card.locator("h2").inner_text():
        problems.append(f"card {slug} does not say FAIL in its heading")
    run = card.locator("h3", has_text=f"wrong_{WRONG[1]}")
    if "FAIL" not in run.inner_text():
        problems.append("the failing run does not say FAIL")
    fail_rows = card.locator("tr.fail")
    shown = [fail_rows.nth(i).inner_text() for i in range(fail_rows.count())]
    if len(shown) != len(failing) or not all("FAIL" in row for row in shown):
        problems.append(f"{len(failing)} failing checks, rows shown as FAIL: {shown}")
    for c in failing:
        if not any(row.startswith(c.observable) for row in shown):
            problems.append(f"failing check {c.observable} is not shown as FAIL")
    return problems


@pytest.fixture(scope="module")
def report(tmp_path_factory, stored_results) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("browser_report")
    return out, build_report(out, stored_results, DRAWN)


def test_index_in_chromium(browser, report):
    out, failing = report
    assert failing, "the fed run must fail some check"
    page, errors = open_page(browser, out / "index.html")
    assert page.locator("img").count() == len(DRAWN)
    assert image_problems(page) == []
    cards = page.locator("section.card")
    slugs = {cards.nth(i).get_attribute("data-slug") for i in range(cards.count())}
    assert slugs >= {p.slug for p in PAPERS}
    registered = set(all_experiments())
    for p in PAPERS:
        expected = "NOT IMPLEMENTED" if p.slug not in registered else None
        card = page.locator(f"section.card[data-slug='{p.slug}']")
        if expected:
            assert expected in card.inner_text()
    assert failure_problems(page, WRONG[0], failing) == []
    failed_cards = page.locator("section.card[data-status='FAIL']")
    assert [failed_cards.nth(i).get_attribute("data-slug") for i in
            range(failed_cards.count())] == [WRONG[0]]
    assert errors == []
    page.close()


def test_paper_page_in_chromium(browser, report):
    out, failing = report
    page, errors = open_page(browser, out / WRONG[0] / "index.html")
    assert page.locator("img").count() == 1 and image_problems(page) == []
    assert "FAIL" in page.locator("h1").inner_text()
    assert page.locator("tr.fail").count() == len(failing)
    page.click("text=← all papers")
    page.wait_for_load_state("load")
    assert page.url.endswith("/index.html") and page.locator("section.card").count() >= 20
    assert errors == []
    page.close()


def test_the_browser_checks_can_fail(browser, report, tmp_path):
    """A broken image, and one failing check drawn as PASS, are both caught."""
    out, failing = report
    broken = tmp_path / "report"
    shutil.copytree(out, broken)
    (broken / DRAWN[1] / "figure.png").write_bytes(b"not a png")
    index = broken / "index.html"
    one_row_as_pass = re.sub(
        r'<tr class=fail>(.*?)<span class="fail">FAIL</span>',
        r'<tr class=pass>\1<span class="pass">PASS</span>',
        index.read_text(),
        count=1,
    )
    index.write_text(one_row_as_pass)
    page, _ = open_page(browser, index)
    assert [p for p in image_problems(page) if DRAWN[1] in p]
    assert failure_problems(page, WRONG[0], failing)
    page.close()


@pytest.mark.slow
def test_every_figure_loads_in_chromium(browser, stored_results, tmp_path):
    """Every registered paper's figure drawn and loaded (slow: all of matplotlib's work)."""
    build_report(tmp_path, stored_results, tuple(stored_results))
    page, errors = open_page(browser, tmp_path / "index.html")
    assert page.locator("img").count() == len(stored_results)
    assert image_problems(page) == [] and errors == []
    page.close()
