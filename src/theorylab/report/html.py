"""The HTML report: ``index.html`` (one card per paper) and one page per experiment.

Layout of a report folder::

    DIR/index.html
    DIR/<slug>/index.html        figures, claim, settings, every check
    DIR/<slug>/<variant>.json    the RunResult of each run (main + variants)
    DIR/<slug>/figure.png|.svg   the paper's key figure (theory lines, simulation points)

``write_report(DIR, experiments)`` re-renders the HTML and figures from the JSON files alone, so
runs made elsewhere (a cluster, a GPU machine) can be reported anywhere. The report knows no
runner: the caller (the CLI, the runner) hands it the experiments.

The index has one card per paper of the catalogue: its figure at the card's full width, the
checks of every run (reference, simulation, tolerance, resolution, PASS/FAIL, and the reason as a
numbered note), the parameters, seeds and timings. Papers that were not run, or are not
implemented yet, get a card that says so. A failed check and a failed run carry the class
``fail`` and the word FAIL. The report is self-contained: no script, no font, nothing fetched.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from theorylab._version import __version__
from theorylab.experiments.base import Experiment
from theorylab.experiments.checks import CheckResult
from theorylab.experiments.params import field_specs
from theorylab.experiments.result import RunResult

__all__ = ["load_results", "save_figure", "save_results", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,sans-serif;margin:1.5em auto;max-width:1100px;
 padding:0 1em;color:#222;line-height:1.4}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4;position:sticky;top:0} td.num{font-family:ui-monospace,monospace;
 text-align:right;white-space:nowrap}
.pass{color:#17803d;font-weight:600} .fail{color:#b42318;font-weight:600}
.missing{color:#6b6b6b}
.card.pass,.card.fail,tr.pass,tr.fail{color:inherit;font-weight:normal}
tr.fail td{background:#fdecea}
img.figure{width:100%;height:auto;border:1px solid #ddd;background:#fff}
.card{border:1px solid #d0d0d0;border-radius:8px;padding:1em 1.2em;margin:1.5em 0}
.card.fail{border:2px solid #b42318} .card.missing{background:#fafafa}
.card h2{margin:0 0 .2em 0;font-size:1.25em} .card h3{font-size:1.05em;margin:1em 0 .3em 0}
.meta{color:#555;font-size:13px} .claim{line-height:1.45}
.scroll{max-height:26em;overflow:auto;border:1px solid #eee}
ol.notes{font-size:12.5px;color:#333;padding-left:2.2em} ol.notes li{margin:.2em 0}
a.note{text-decoration:none;font-size:12px}
dl.params{display:grid;grid-template-columns:max-content 1fr;gap:1px 1em;font-size:13px;
 margin:.3em 0} dl.params dt{font-family:ui-monospace,monospace} dl.params dd{margin:0}
dl.params small{color:#666}
code{background:#f4f4f4;padding:1px 4px}
nav.toc{columns:2;font-size:13px} nav.toc a{text-decoration:none}
"""

#: Words the report uses for a run's and a check's status (also in class names).
PASS, FAIL = "PASS", "FAIL"


# --------------------------------------------------------------------------------------------
# Saving and loading results, figures
# --------------------------------------------------------------------------------------------


def save_figure(fig: Any, path_stem: Path) -> list[Path]:
    """Save a matplotlib figure as PNG and SVG next to each other; close it."""
    import matplotlib.pyplot as plt

    path_stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext, kw in (("png", {"dpi": 130}), ("svg", {})):
        p = path_stem.with_suffix(f".{ext}")
        fig.savefig(p, bbox_inches="tight", **kw)
        paths.append(p)
    plt.close(fig)
    return paths


def save_results(out: Path, results: list[RunResult]) -> None:
    """Write each result to ``out/<slug>/<variant>.json``."""
    for r in results:
        folder = out / r.slug
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{r.variant}.json").write_text(
            json.dumps(r.to_dict(), indent=1, allow_nan=False)
        )


def load_results(out: Path, experiments: Mapping[str, Experiment]) -> dict[str, list[RunResult]]:
    """Results of the given experiments found under ``out``, by slug (main run first).

    A file that is not a result of one of them (another slug, unreadable JSON, a result that
    no longer matches its experiment's parameters) is skipped with a warning naming its path.
    """
    found: dict[str, list[RunResult]] = {}
    for path in sorted(out.glob("*/*.json")):
        try:
            data = json.loads(path.read_text())
            exp = experiments.get(data.get("slug"))
            if exp is None:
                continue
            r = RunResult.from_dict(data, exp)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            warnings.warn(f"skipping {path}: {type(exc).__name__}: {exc}", stacklevel=2)
            continue
        found.setdefault(r.slug, []).append(r)
    for runs in found.values():
        runs.sort(key=lambda r: (r.variant != "main", r.variant))
    return found


def _render_figure(exp: Experiment, main: RunResult, folder: Path) -> str | None:
    """Draw the experiment's figure of its main run into ``folder``; the error, if it fails.

    A figure that cannot be drawn must not take the report down: the card says why instead.
    """
    if exp.figure is None:
        return None
    try:
        save_figure(exp.figure(main), folder / "figure")
    except Exception as exc:  # a paper's plotting bug is reported, not raised
        import matplotlib.pyplot as plt

        plt.close("all")
        return f"{type(exc).__name__}: {exc}"
    return None


# --------------------------------------------------------------------------------------------
# Small formatters (pure)
# --------------------------------------------------------------------------------------------


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float | int | np.floating | np.integer):
        x = float(x)
        if not np.isfinite(x):
            return "–" if np.isnan(x) else ("∞" if x > 0 else "−∞")
        return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return _esc(x)


def _badge(passed: bool) -> str:
    return f'<span class="pass">{PASS}</span>' if passed else f'<span class="fail">{FAIL}</span>'


def _resolution(x: float | None) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.2g} %"


def _value(v: Any) -> str:
    """A parameter value as the CLI would take it (grids comma-separated)."""
    if isinstance(v, list | tuple):
        if len(v) > 8 or any(isinstance(e, list | tuple) for e in v):
            return f"array of shape {np.shape(v)}"
        return ",".join(_value(e) for e in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _duration(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.0f} s"


# --------------------------------------------------------------------------------------------
# Pieces of a card / page
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Notes:
    """The distinct reasons of a table, numbered in order of first use."""

    anchor: str
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, anchor: str, checks: Sequence[CheckResult]) -> _Notes:
        return cls(anchor, tuple(dict.fromkeys(c.reason for c in checks)))

    def ref(self, reason: str) -> str:
        n = self.reasons.index(reason) + 1
        return f"<a class=note href='#{self.anchor}-n{n}'>[{n}]</a>"

    def render(self) -> str:
        items = "".join(
            f"<li id='{self.anchor}-n{i}'>{_esc(r)}</li>" for i, r in enumerate(self.reasons, 1)
        )
        return f"<ol class=notes>{items}</ol>"


def _check_row(c: CheckResult, notes: _Notes) -> str:
    status = "pass" if c.passed else "fail"
    simulated = c.simulation if c.simulation is not None else c.value
    return (
        f"<tr class={status}><td>{_esc(c.observable)}</td><td class=num>{_fmt(c.theory)}</td>"
        f"<td>{_esc(c.source)}</td><td class=num>{_fmt(simulated)}</td>"
        f"<td class=num>{_fmt(c.tolerance)}</td><td class=num>{_resolution(c.resolution)}</td>"
        f"<td>{_badge(c.passed)}</td><td>{_esc(c.kind)} {notes.ref(c.reason)}</td></tr>"
    )


def _checks_table(result: RunResult, anchor: str) -> str:
    """Every check row of a run; reasons as numbered notes below the table."""
    if not result.checks:
        return f"<p class=fail>{FAIL}: no check ran (zero checks is a failure).</p>"
    notes = _Notes.of(anchor, result.checks)
    rows = "".join(_check_row(c, notes) for c in result.checks)
    return (
        "<div class=scroll><table><tr><th>observable</th><th>reference</th><th>from</th>"
        "<th>simulation / value</th><th>tolerance</th><th>resolution</th><th></th>"
        f"<th>kind, reason</th></tr>{rows}</table></div>{notes.render()}"
    )


def _failed_summary(result: RunResult) -> str:
    """Why a run failed, in one line (empty for a passing run)."""
    if result.passed:
        return ""
    why = []
    if not result.solver.converged:
        why.append(f"theory did not converge (residual {result.solver.residual:.1e})")
    if not result.checks:
        why.append("no check ran")
    failed = [c.observable for c in result.checks if not c.passed]
    if failed:
        shown = ", ".join(failed[:6]) + (f" and {len(failed) - 6} more" if len(failed) > 6 else "")
        why.append(f"{len(failed)} failed check(s): {shown}")
    return f"<p class=fail>{FAIL}: {_esc('; '.join(why))}</p>"


def _params_list(exp: Experiment, values: Mapping[str, Any]) -> str:
    """``name = value`` with the field's description, one line per parameter."""
    specs = field_specs(exp.params)
    items = "".join(
        f"<dt>{_esc(k)}</dt><dd>{_esc(_value(v))}"
        + (f" <small>{_esc(specs[k].description)}</small>" if k in specs else "")
        + "</dd>"
        for k, v in values.items()
    )
    return f"<dl class=params>{items}</dl>"


def _changed(values: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if base.get(k) != v}


def _run_facts(r: RunResult) -> str:
    seeds = r.simulation.seeds if r.simulation else 0
    which = {0: "no simulation", 1: "seed 0"}.get(seeds, f"seeds 0–{seeds - 1}")
    return (
        f"<p class=meta>{which} · "
        f"theory {_duration(r.timings.get('theory_s', 0.0))} · simulation "
        f"{_duration(r.timings.get('simulation_s', 0.0))} · total {_duration(r.elapsed_s)} · "
        f"device {_esc(r.device)} · solver converged: {r.solver.converged} "
        f"(residual {r.solver.residual:.1e})</p>"
    )


def _variant_description(exp: Experiment, name: str) -> str:
    return next((v.description for v in exp.variants if v.name == name), "")


def _run_section(exp: Experiment, r: RunResult, main: RunResult, anchor: str) -> str:
    """One run of a paper: status, description, parameters, seeds, timings, checks."""
    n_ok = sum(c.passed for c in r.checks)
    if r is main:
        params = _params_list(exp, r.params_dict)
        title = "Parameters"
    else:
        params = _params_list(exp, _changed(r.params_dict, main.params_dict))
        title = "Parameters changed from the main run"
    desc = _variant_description(exp, r.variant)
    return (
        f"<h3>{_esc(r.variant)} run {_badge(r.passed)} · {n_ok}/{len(r.checks)} checks</h3>"
        + (f"<p>{_esc(desc)}</p>" if desc else "")
        + _failed_summary(r)
        + _run_facts(r)
        + f"<details><summary>{title}</summary>{params}</details>"
        + _checks_table(r, anchor)
    )


def _figure_html(slug: str, folder: Path, href: str, prefix: str, error: str | None) -> str:
    if error is not None:
        return f"<p class=fail>figure could not be drawn: {_esc(error)}</p>"
    if not (folder / "figure.png").exists():
        return "<p class=missing>No figure.</p>"
    img = (
        f"<img class=figure src='{prefix}figure.png' alt='key figure of {_esc(slug)}' "
        "loading=eager>"
    )
    return f"<a href='{href}'>{img}</a>" if href else img


def _paper_header(title: str, arxiv: str, slug: str, href: str | None, status: str) -> str:
    name = f"<a href='{href}'>{_esc(title)}</a>" if href else _esc(title)
    return (
        f"<h2>{name} {status}</h2><p class=meta>arXiv <a href='https://arxiv.org/abs/"
        f"{_esc(arxiv)}'>{_esc(arxiv)}</a> · <code>{_esc(slug)}</code></p>"
    )


def _result_card(
    exp: Experiment, runs: list[RunResult], folder: Path, figure_error: str | None
) -> str:
    slug = exp.slug
    passed = all(r.passed for r in runs)
    checks = [c for r in runs for c in r.checks]
    n_ok = sum(c.passed for c in checks)
    status = f"{_badge(passed)} <small>{n_ok}/{len(checks)} checks</small>"
    body = "".join(_run_section(exp, r, runs[0], f"{slug}-{r.variant}") for r in runs)
    return (
        f"<section class='card {'pass' if passed else 'fail'}' id='{_esc(slug)}' "
        f"data-slug='{_esc(slug)}' data-status='{PASS if passed else FAIL}'>"
        + _paper_header(exp.title, exp.arxiv, slug, f"{slug}/index.html", status)
        + f"<p class=claim>{_esc(exp.claim)}</p>"
        + _figure_html(slug, folder, f"{slug}/index.html", f"{slug}/", figure_error)
        + body
        + "</section>"
    )


def _missing_card(slug: str, arxiv: str, title: str, implemented: bool) -> str:
    if implemented:
        status, text = "NOT RUN", (
            "Implemented, but not run in this report: "
            f"<code>theorylab reproduce {_esc(slug)} --quick --out DIR</code>."
        )
    else:
        status, text = "NOT IMPLEMENTED", "Not implemented in theorylab yet."
    return (
        f"<section class='card missing' id='{_esc(slug)}' data-slug='{_esc(slug)}' "
        f"data-status='{status}'>"
        + _paper_header(title, arxiv, slug, None, f"<span class=missing>{status}</span>")
        + f"<p class=missing>{text}</p></section>"
    )


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset='utf-8'>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{_esc(title)}</title><link rel=icon href='data:,'>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _experiment_page(
    exp: Experiment, runs: list[RunResult], folder: Path, figure_error: str | None = None
) -> str:
    passed = all(r.passed for r in runs)
    parts = [
        f"<p><a href='../index.html'>← all papers</a></p><h1>{_esc(exp.title)} "
        f"{_badge(passed)}</h1>",
        f"<p class=meta>arXiv <a href='https://arxiv.org/abs/{_esc(exp.arxiv)}'>"
        f"{_esc(exp.arxiv)}</a> · slug <code>{_esc(exp.slug)}</code> · theorylab "
        f"{__version__}</p>",
        f"<p class=claim>{_esc(exp.claim)}</p>",
        _figure_html(exp.slug, folder, "", "", figure_error),
        "".join(_run_section(exp, r, runs[0], f"{r.variant}") for r in runs),
        "<p class=meta>Resolution: the smallest relative error of the theory (either sign) "
        "that the row would detect.</p>",
    ]
    return _page(exp.slug, "".join(parts))


@dataclass(frozen=True)
class _Entry:
    """One paper of the index: catalogue identity and, if run, its results."""

    slug: str
    arxiv: str
    title: str
    experiment: Experiment | None
    runs: tuple[RunResult, ...]

    @property
    def status(self) -> str:
        if self.runs:
            return PASS if all(r.passed for r in self.runs) else FAIL
        return "NOT RUN" if self.experiment is not None else "NOT IMPLEMENTED"


def _entries(
    experiments: Mapping[str, Experiment], results: Mapping[str, list[RunResult]]
) -> list[_Entry]:
    """Every paper of the catalogue, then any other experiment with results, in that order."""
    from theorylab.catalogue import PAPERS

    entries = [
        _Entry(p.slug, p.arxiv, p.title, experiments.get(p.slug), tuple(results.get(p.slug, ())))
        for p in PAPERS
    ]
    known = {p.slug for p in PAPERS}
    entries += [
        _Entry(slug, exp.arxiv, exp.title, exp, tuple(results.get(slug, ())))
        for slug, exp in experiments.items()
        if slug not in known and slug in results
    ]
    return entries


def _summary(entries: Sequence[_Entry]) -> str:
    statuses = (PASS, FAIL, "NOT RUN", "NOT IMPLEMENTED")
    counts = {s: sum(e.status == s for e in entries) for s in statuses}
    parts = [f"{n} {s.lower()}" for s, n in counts.items() if n]
    cls = "fail" if counts[FAIL] else "pass"
    return f"<p class={cls}>{len(entries)} papers: {', '.join(parts)}.</p>"


def _toc(entries: Sequence[_Entry]) -> str:
    items = "".join(
        f"<div><a href='#{_esc(e.slug)}'>{_esc(e.slug)}</a> "
        + (_badge(e.status == PASS) if e.runs else f"<span class=missing>{e.status}</span>")
        + "</div>"
        for e in entries
    )
    return f"<nav class=toc>{items}</nav>"


def write_report(
    out: Path, experiments: Mapping[str, Experiment], *, figures: bool = True
) -> Path:
    """Render ``out/index.html`` and every experiment page from the results under ``out``.

    ``figures=False`` keeps the figures already in ``out`` (if any) instead of drawing them.
    """
    import matplotlib

    matplotlib.use("Agg")
    results = load_results(out, experiments)
    entries = _entries(experiments, results)
    cards = []
    for e in entries:
        if not e.runs or e.experiment is None:
            cards.append(_missing_card(e.slug, e.arxiv, e.title, e.experiment is not None))
            continue
        folder = out / e.slug
        runs = list(e.runs)
        error = _render_figure(e.experiment, runs[0], folder) if figures else None
        (folder / "index.html").write_text(_experiment_page(e.experiment, runs, folder, error))
        cards.append(_result_card(e.experiment, runs, folder, error))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"<h1>theorylab report</h1><p class=meta>theorylab {__version__} · {stamp}. Each card: "
        "the paper's key figure (theory lines, simulation points), then every run with its "
        "checks. Resolution: the smallest relative error of the theory (either sign) that a "
        "row would detect; [n] refers to the reasons below each table.</p>"
        + _summary(entries)
        + _toc(entries)
        + "".join(cards)
    )
    index = out / "index.html"
    index.write_text(_page("theorylab report", body))
    return index
