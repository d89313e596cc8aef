"""Store the simulation statistics (and theory) of each experiment's quick run for fast tests.

    python tests/data/regenerate.py [SLUG ...]                 # simulate again (slow)
    python tests/data/regenerate.py --theory-only [SLUG ...]   # theory at the stored setting

The power test (tests/test_power.py) recomputes the theory and re-evaluates the checks against
these stored simulation means and standard errors, so it runs in seconds. Regenerate a file
whenever the experiment's ``protocol`` changes (the test refuses a stale one).

``theory/SLUG.json`` holds the theory observables at the stored setting, so the report tests
(tests/report) can build a whole report without recomputing a slow theory; they re-evaluate the
checks themselves and recompute the theory when the stored one is missing or of another setting.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import theorylab as tl
from theorylab.experiments.result import to_jsonable
from theorylab.runner.registry import all_experiments
from theorylab.theory.fixed_point import SolverStatus

HERE = Path(__file__).parent / "simulations"
THEORY = Path(__file__).parent / "theory"


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(doc), indent=0, allow_nan=False) + "\n")


def store_theory(
    slug: str, params: dict[str, Any], theory: dict[str, Any], solver: SolverStatus
) -> Path:
    """Write the theory observables (and solver status) of ``slug`` at ``params``."""
    exp = tl.get(slug)
    path = THEORY / f"{exp.slug}.json"
    _write(path, {"slug": exp.slug, "params": params, "theory": theory, "solver": solver})
    return path


def regenerate(slug: str) -> Path:
    exp = tl.get(slug)
    result = tl.run(exp, progress=True)
    doc = {
        "slug": exp.slug,
        "protocol": exp.protocol,
        "params": result.params_dict,
        "simulation": result.simulation.as_dict(),
        "passed": result.passed,
    }
    path = HERE / f"{exp.slug}.json"
    _write(path, doc)
    store_theory(exp.slug, result.params_dict, result.theory, result.solver)
    print(f"{path}: passed={result.passed}, {len(result.checks)} rows")
    return path


def regenerate_theory(slug: str) -> Path:
    """Recompute only the theory at the setting of the stored simulation of ``slug``."""
    exp = tl.get(slug)
    params = json.loads((HERE / f"{exp.slug}.json").read_text())["params"]
    theory, solver = exp.split_theory(exp.theory(exp.make_params(params)))
    path = store_theory(exp.slug, params, theory, solver)
    print(f"{path}: {len(theory)} observables")
    return path


if __name__ == "__main__":
    args = sys.argv[1:]
    action = regenerate
    if args[:1] == ["--theory-only"]:
        action, args = regenerate_theory, args[1:]
    for name in args or list(all_experiments()):
        action(name)
