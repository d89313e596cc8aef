"""The registry: every module of :mod:`theorylab.experiments` that defines ``EXPERIMENT``.

Adding a paper is adding one module there; nothing here changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from functools import cache

import theorylab.experiments as _experiments_pkg
from theorylab.catalogue import PAPERS, Paper
from theorylab.experiments.base import Experiment

__all__ = [
    "UnknownExperiment",
    "all_experiments",
    "get",
    "import_errors",
    "resolve_slug",
    "unregistered",
]


class UnknownExperiment(ValueError):
    """A slug or arXiv id that names no implemented experiment."""


#: Modules of the experiments package that are part of the contract, not papers.
_CONTRACT_MODULES = {"base", "checks", "contract", "params", "plotting", "result"}


@cache
def _scan() -> tuple[dict[str, Experiment], dict[str, str]]:
    found: dict[str, Experiment] = {}
    errors: dict[str, str] = {}
    for info in pkgutil.iter_modules(_experiments_pkg.__path__):
        if info.name.startswith("_") or info.name in _CONTRACT_MODULES:
            continue
        try:
            module = importlib.import_module(f"{_experiments_pkg.__name__}.{info.name}")
        except Exception as exc:  # one broken paper module must not take the others down
            errors[info.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"experiment module {info.name!r} failed to import: {errors[info.name]}",
                stacklevel=3,
            )
            continue
        exp = getattr(module, "EXPERIMENT", None)
        if isinstance(exp, Experiment):
            found[exp.slug] = exp
    order = {p.slug: i for i, p in enumerate(PAPERS)}
    return dict(sorted(found.items(), key=lambda kv: order.get(kv[0], len(order)))), errors


def all_experiments() -> dict[str, Experiment]:
    """Implemented experiments by slug, in catalogue order."""
    return _scan()[0]


def import_errors() -> dict[str, str]:
    """Paper modules that failed to import (module name → error); the contract test wants {}."""
    return _scan()[1]


def _paper(key: str) -> Paper | None:
    key = key.strip().lower().removeprefix("arxiv:")
    for paper in PAPERS:
        if key in (paper.slug, paper.arxiv):
            return paper
    return None


def resolve_slug(key: str) -> str:
    """The slug named by ``key`` (a slug or an arXiv id), implemented or not."""
    paper = _paper(key)
    if paper is not None:
        return paper.slug
    if key in all_experiments():
        return key
    raise UnknownExperiment(f"unknown experiment '{key}'; run `theorylab list` to see them")


def get(key: str | Experiment) -> Experiment:
    """The experiment named by a slug or an arXiv id (e.g. ``"bayes_extensive"``, ``"2302.00375"``).

    Raises ``UnknownExperiment`` (a ``ValueError``) for an unknown name or a paper of the
    catalogue that is not implemented yet.
    """
    if isinstance(key, Experiment):
        return key
    slug = resolve_slug(key)
    exps = all_experiments()
    if slug not in exps:
        paper = _paper(slug)
        arxiv = f" ({paper.arxiv})" if paper else ""
        raise UnknownExperiment(f"experiment '{slug}'{arxiv} is not implemented yet")
    return exps[slug]


def unregistered(exp: Experiment) -> Experiment | None:
    """``exp`` if it is not the registered experiment of its slug (e.g. a modified copy), else
    None: what a task must carry to its worker so that the given experiment is the one run."""
    return None if all_experiments().get(exp.slug) is exp else exp
