"""Mathematics in the report is plain Unicode: no TeX markup in any text the report shows.

The report prints the claims, variant descriptions, parameter help and check reasons as text (no
math renderer), so ``Z_{ℓ−1}``, ``n^{−2/(k+5)}`` or ``\\sigma`` would reach the reader raw. The
experiments write ``Z₍ℓ₋₁₎``-style Unicode instead (docstrings may keep TeX: they are not shown).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from theorylab.experiments.params import field_specs
from theorylab.report.html import save_results, write_report
from theorylab.runner.registry import all_experiments

#: TeX markup: a braced subscript/superscript, a parenthesised superscript, a backslash command,
#: inline $...$ math.
TEX = re.compile(r"_\{|\^\{|\^\(|\\[a-zA-Z]+|\$[^$\s][^$]*\$")


def shown_texts(exp, result) -> dict[str, str]:
    """Every string of ``exp`` that the report shows, by where it comes from."""
    texts = {"title": exp.title, "claim": exp.claim}
    texts |= {f"variant {v.name}": v.description for v in exp.variants}
    texts |= {f"parameter {k}": s.description for k, s in field_specs(exp.params).items()}
    if result is not None:
        texts |= {f"check {c.observable}": c.reason for c in result.checks}
    return texts


def tex_markup(texts: dict[str, str]) -> list[str]:
    return [
        f"{where}: {m.group()!r} in …{text[max(0, m.start() - 30) : m.end() + 30]}…"
        for where, text in texts.items()
        for m in TEX.finditer(text)
    ]


def test_the_pattern_finds_tex_and_spares_unicode():
    assert tex_markup({"a": "Z_{(Z_{ℓ−1}^σ)^+}", "b": "n^{−2/(k+5)}", "c": r"\sigma"})
    assert tex_markup({"d": "s^(2/L)", "e": "rate $n^2$"})
    assert not tex_markup({"f": "Z₍ℓ₋₁₎ ≈ n^−2/(k+5), s²ᐟᴸ, σ = 0.5"})


EXPERIMENTS = list(all_experiments().values())


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=[e.slug for e in EXPERIMENTS])
def test_no_tex_markup_in_what_the_report_shows(exp, stored_results):
    result = stored_results.get(exp.slug)
    assert tex_markup(shown_texts(exp, result)) == []


def visible_text(page: str) -> str:
    """The text of an HTML page without its tags, style and attributes."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


def test_the_rendered_report_has_no_tex_markup(tmp_path: Path, stored_results):
    save_results(tmp_path, list(stored_results.values()))
    write_report(tmp_path, all_experiments(), figures=False)
    pages = [tmp_path / "index.html", *sorted(tmp_path.glob("*/index.html"))]
    found = {
        str(p.relative_to(tmp_path)): tex_markup({"page": visible_text(p.read_text())})
        for p in pages
    }
    assert {k: v for k, v in found.items() if v} == {}
