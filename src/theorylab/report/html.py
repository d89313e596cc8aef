"""The HTML report: ``index.html`` (one row per experiment) and one page per experiment.

Layout of a report folder::

    DIR/index.html
    DIR/<slug>/index.html        figures, claim, settings, every check
    DIR/<slug>/<variant>.json    the RunResult of each run (main + variants)
    DIR/<slug>/figure.png|.svg   the paper's key figure (theory lines, simulation points)

``write_report(DIR, experiments)`` re-renders the HTML and figures from the JSON files alone, so
runs made elsewhere (a cluster, a GPU machine) can be reported anywhere. The report knows no
runner: the caller (the CLI, the runner) hands it the experiments.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from theorylab._version import __version__
from theorylab.experiments.base import Experiment
from theorylab.experiments.result import RunResult

__all__ = ["load_results", "save_figure", "save_results", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{font-family:ui-monospace,monospace;text-align:right}
.pass{color:#17803d;font-weight:600} .fail{color:#b42318;font-weight:600}
img.thumb{width:260px;border:1px solid #ddd} img.full{max-width:100%;border:1px solid #ddd}
.claim{max-width:60em;line-height:1.45} code{background:#f4f4f4;padding:1px 4px}
"""


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
    import warnings

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


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float | int | np.floating):
        x = float(x)
        return f"{x:.4g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"
    return html.escape(str(x))


def _badge(passed: bool) -> str:
    return '<span class="pass">PASS</span>' if passed else '<span class="fail">FAIL</span>'


def _resolution(x: float | None) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * x:.2g} %"


def _checks_table(result: RunResult) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.observable)}</td><td class=num>{_fmt(c.theory)}</td>"
        f"<td>{html.escape(c.source)}</td>"
        f"<td class=num>{_fmt(c.simulation if c.simulation is not None else c.value)}</td>"
        f"<td class=num>{_fmt(c.tolerance)}</td><td class=num>{_resolution(c.resolution)}</td>"
        f"<td>{_badge(c.passed)}</td><td>{html.escape(c.kind)}</td></tr>"
        for c in result.checks
    )
    reasons = sorted({c.reason for c in result.checks})
    notes = "".join(f"<li>{html.escape(r)}</li>" for r in reasons)
    return (
        "<table><tr><th>observable</th><th>reference</th><th>from</th>"
        "<th>simulation / value</th><th>tolerance</th><th>resolution</th><th></th><th>kind</th>"
        f"</tr>{rows}</table><p>Resolution: the smallest relative error of the theory (either "
        "sign) that the row would detect.</p>"
        f"<p>Tolerances:</p><ul>{notes}</ul>"
    )


def _experiment_page(exp: Experiment, runs: list[RunResult], folder: Path) -> str:
    parts = [
        f"<p><a href='../index.html'>← all experiments</a></p><h1>{html.escape(exp.title)}</h1>",
        f"<p>arXiv <a href='https://arxiv.org/abs/{exp.arxiv}'>{exp.arxiv}</a> · slug "
        f"<code>{exp.slug}</code> · theorylab {__version__}</p>",
        f"<p class=claim>{html.escape(exp.claim)}</p>",
    ]
    if (folder / "figure.png").exists():
        parts.append("<img class=full src='figure.png' alt='key figure'>")
    for r in runs:
        desc = next((v.description for v in exp.variants if v.name == r.variant), "")
        seeds = r.simulation.seeds if r.simulation else 0
        params = ", ".join(f"{k}={v}" for k, v in r.params_dict.items())
        parts.append(
            f"<h2>{html.escape(r.variant)} run {_badge(r.passed)}</h2>"
            f"<p>{html.escape(desc)}</p><p><code>{html.escape(params)}</code><br>"
            f"{seeds} seeds · theory {r.timings.get('theory_s', 0):.3f} s · simulation "
            f"{r.timings.get('simulation_s', 0):.1f} s · solver converged: "
            f"{r.solver.converged} (residual {r.solver.residual:.1e})</p>"
        )
        parts.append(_checks_table(r))
    return _page(exp.slug, "".join(parts))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _headline(r: RunResult, limit: int = 4) -> str:
    """The first few comparisons with a simulated value: agreements first, then criteria."""
    simulated = [c for c in r.checks if c.simulation is not None]
    rows = sorted(simulated, key=lambda c: c.kind != "agreement")[:limit]
    return "<br>".join(
        f"{html.escape(c.observable)}: {_fmt(c.theory)} vs {_fmt(c.simulation)}" for c in rows
    )


def _not_yet(reported: set[str]) -> str:
    """The catalogue's papers that are not in this report, one line each."""
    from theorylab.catalogue import PAPERS

    missing = [p for p in PAPERS if p.slug not in reported]
    if not missing:
        return ""
    items = "".join(
        f"<li>arXiv {p.arxiv} <code>{p.slug}</code>: {html.escape(p.title)}</li>" for p in missing
    )
    return f"<h2>Not in this report</h2><ul>{items}</ul>"


def write_report(
    out: Path, experiments: Mapping[str, Experiment], *, figures: bool = True
) -> Path:
    """Render ``out/index.html`` and every experiment page from the results under ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    exps = experiments
    results = load_results(out, exps)
    rows = []
    for slug, runs in results.items():
        exp = exps.get(slug)
        if exp is None:
            continue
        folder = out / slug
        if figures and exp.figure is not None:
            save_figure(exp.figure(runs[0]), folder / "figure")
        (folder / "index.html").write_text(_experiment_page(exp, runs, folder))
        checks = [c for r in runs for c in r.checks]
        n_pass = sum(c.passed for c in checks)
        passed = all(r.passed for r in runs)
        thumb = (
            f"<a href='{slug}/index.html'><img class=thumb src='{slug}/figure.png'></a>"
            if (folder / "figure.png").exists()
            else ""
        )
        runtime = sum(r.elapsed_s for r in runs)
        rows.append(
            f"<tr><td><a href='{slug}/index.html'>{html.escape(exp.title)}</a><br>"
            f"<small>arXiv {exp.arxiv} · <code>{slug}</code></small></td>"
            f"<td class=claim><small>{html.escape(exp.claim)}</small></td>"
            f"<td>{_badge(passed)}<br>{n_pass}/{len(checks)} checks</td>"
            f"<td><small>{_headline(runs[0])}</small></td><td class=num>{runtime:.1f} s</td>"
            f"<td>{thumb}</td></tr>"
        )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"<h1>theorylab report</h1><p>theorylab {__version__} · {stamp} · "
        f"{len(rows)} experiment(s)</p><table><tr><th>paper</th><th>claim</th><th>checks</th>"
        "<th>theory vs simulation</th><th>runtime</th><th>figure</th></tr>"
        + "".join(rows)
        + "</table>"
        + _not_yet(set(results))
    )
    index = out / "index.html"
    index.write_text(_page("theorylab report", body))
    return index
