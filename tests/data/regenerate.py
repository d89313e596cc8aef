"""Store the simulation statistics of each experiment's quick run for the power test.

    python tests/data/regenerate.py [SLUG ...]

The power test (tests/test_power.py) recomputes the theory and re-evaluates the checks against
these stored simulation means and standard errors, so it runs in seconds. Regenerate a file
whenever the experiment's ``protocol`` changes (the test refuses a stale one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import theorylab as tl
from theorylab.experiments.result import to_jsonable
from theorylab.runner.registry import all_experiments

HERE = Path(__file__).parent / "simulations"


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
    path.write_text(json.dumps(to_jsonable(doc), indent=0, allow_nan=False) + "\n")
    print(f"{path}: passed={result.passed}, {len(result.checks)} rows")
    return path


if __name__ == "__main__":
    for name in sys.argv[1:] or list(all_experiments()):
        regenerate(name)
