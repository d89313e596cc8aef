"""theorylab: executable learning theory.

For each paper: its theory (``tl.get(slug).theory(params)``), the simulation it is about, and
checks that the two agree::

    import theorylab as tl
    exp = tl.get("bayes_extensive")            # or the arXiv id "2302.00375"
    exp.theory(exp.make_params({"alpha": (1.0,)}))
    result = tl.run("bayes_extensive", device="cpu")  # theory + simulation + checks
    tl.sweep("bayes_extensive", {"alpha": [0.5, 1, 2]}, simulate=True)
    df = tl.load("bayes_extensive")             # every stored record, as a DataFrame
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from theorylab._version import __version__

__all__ = ["ExecutorSpec", "RunResult", "__version__", "get", "load", "reproduce", "run", "sweep"]

_LAZY = {
    "get": "theorylab.runner.registry",
    "run": "theorylab.runner.run",
    "sweep": "theorylab.runner.sweep",
    "load": "theorylab.runner.sweep",
    "ExecutorSpec": "theorylab.runner.executors",
    "RunResult": "theorylab.experiments.result",
    "reproduce": "theorylab.runner.reproduce",
}


def __getattr__(name: str) -> Any:
    # Lazy: `theorylab theory ...` must not pay for pandas, dask or torch imports.
    if name in _LAZY:
        module = import_module(_LAZY[name])
        return getattr(module, name)
    raise AttributeError(f"module 'theorylab' has no attribute {name!r}")
