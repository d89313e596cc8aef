"""Checks with power: a wrong theory must fail a check.

For every experiment with stored quick-run simulation statistics (tests/data/simulations, made
by tests/data/regenerate.py), the theory is recomputed now and the checks re-evaluated against
the stored simulation: the baseline must pass, and scaling any checked theory observable by
1 ± (its declared resolution + a margin) must make some row fail (predictions that are exactly
zero — identities "gap = 0" — cannot be scaled; their absolute tolerance is their resolution;
a one-sided bound is mutated in the direction it can detect). A shared solver mutated
independently (a Hermite coefficient) must fail a paper too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from theorylab.experiments.result import typed_observables
from theorylab.runner.registry import all_experiments

DATA = Path(__file__).parent / "data" / "simulations"
MARGIN = 0.005
DEFAULT_RESOLUTION = 0.03  # the equation papers' quick-size goal, for checks that declare none


def stored(slug: str):
    path = DATA / f"{slug}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


EXPERIMENTS = [e for e in all_experiments().values() if stored(e.slug) is not None]


def test_every_experiment_has_stored_simulation_statistics():
    missing = sorted(set(all_experiments()) - {e.slug for e in EXPERIMENTS})
    assert missing == [], f"run tests/data/regenerate.py {' '.join(missing)}"


def evaluate(exp, theory: dict):
    doc = stored(exp.slug)
    p = exp.make_params(doc["params"])
    sim = doc["simulation"]
    return exp.evaluate(
        p, theory, typed_observables(sim["mean"]), typed_observables(sim["sem"]), sim["seeds"]
    )


def baseline(exp):
    doc = stored(exp.slug)
    assert doc["protocol"] == exp.protocol, f"stale: run tests/data/regenerate.py {exp.slug}"
    theory, status = exp.split_theory(exp.theory(exp.make_params(doc["params"])))
    assert status.converged
    return theory


def mutations(exp) -> list[tuple[str, float]]:
    """(theory observable, scale) pairs: each checked theory observable, both signs."""
    theory = baseline(exp)
    needed: dict[str, float] = {}
    signs: dict[str, set[float]] = {}
    for check in exp.checks:
        resolution = getattr(check, "resolution", None) or DEFAULT_RESOLUTION
        for name in check.theory_observables():
            values = np.asarray(theory[name], dtype=float)
            if not np.any(np.nan_to_num(values)):
                continue  # a prediction "= 0": no scaling moves it; its atol is the resolution
            needed[name] = max(needed.get(name, 0.0), resolution)
            signs.setdefault(name, set()).update(_detecting_signs(check, name))
    return [
        (name, 1.0 + sign * (res + MARGIN))
        for name, res in sorted(needed.items())
        for sign in sorted(signs[name])
    ]


def _detecting_signs(check, name: str) -> set[float]:
    """A one-sided bound (value <= theory) only detects a theory that is too small: a looser
    bound is still true. Two-sided comparisons detect both signs."""
    relation = getattr(check, "relation", "==")
    if relation == "==":
        return {1.0, -1.0}
    is_reference = getattr(check, "reference", None) == name
    tighter_is_smaller = (relation == "<=") == is_reference
    return {-1.0} if tighter_is_smaller else {1.0}


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=[e.slug for e in EXPERIMENTS])
def test_baseline_passes_on_the_stored_simulation(exp):
    rows = evaluate(exp, baseline(exp))
    failing = [f"{r.observable}: {r.theory:.5g} vs {r.simulation}" for r in rows if not r.passed]
    assert rows and failing == []


@pytest.mark.parametrize("exp", EXPERIMENTS, ids=[e.slug for e in EXPERIMENTS])
def test_scaled_theory_fails_a_check(exp):
    theory = baseline(exp)
    undetected = []
    for name, scale in mutations(exp):
        mutated = dict(theory)
        mutated[name] = np.asarray(theory[name], dtype=float) * scale
        if all(r.passed for r in evaluate(exp, mutated)):
            undetected.append(f"{name} × {scale:.3f}")
    assert undetected == []


def test_a_wrong_hermite_coefficient_fails_a_paper(monkeypatch):
    """Mutate κ1 of the shared Gaussian-coefficient solver by 3 %: bayes_extensive's target
    power (κ recursion) must no longer agree with its stored simulation."""
    import dataclasses

    import theorylab.theory.hermite as hermite
    import theorylab.theory.random_network as random_network

    exp = all_experiments()["bayes_extensive"]
    baseline(exp)
    original = hermite.hermite_coefficients

    def wrong(*args, **kwargs):
        c = original(*args, **kwargs)
        return dataclasses.replace(c, kappa1=1.03 * c.kappa1)

    monkeypatch.setattr(hermite, "hermite_coefficients", wrong)
    monkeypatch.setattr(random_network, "hermite_coefficients", wrong, raising=False)
    doc = stored(exp.slug)
    theory, _ = exp.split_theory(exp.theory(exp.make_params(doc["params"])))
    assert not all(r.passed for r in evaluate(exp, theory))


def test_a_widened_tolerance_is_caught():
    """Widening a check (here: 30 sem) makes the scaled theory pass — the power test's failure
    mode, shown on purpose."""
    import dataclasses

    exp = all_experiments()["bayes_extensive"]
    theory = baseline(exp)
    wide = dataclasses.replace(
        exp, checks=tuple(dataclasses.replace(c, n_sem=30.0, resolution=None)
                          if hasattr(c, "n_sem") else c for c in exp.checks)
    )
    mutated = dict(theory)
    mutated["nmse_ridge_opt"] = np.asarray(theory["nmse_ridge_opt"]) * (1.0 + 0.035)
    assert all(r.passed for r in evaluate(wide, mutated) if "nmse_ridge_opt" in r.observable)
    assert not all(r.passed for r in evaluate(exp, mutated))
