"""``run``: theory + seeds + checks, store reuse, seed statistics, the JSON document."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import theorylab as tl
from theorylab.experiments.base import Experiment, element_label
from theorylab.experiments.result import DRAWS_KEY, SimulationStats, seed_output
from theorylab.runner.registry import get
from theorylab.runner.run import RunResult, run
from theorylab.runner.store import Store

SLUG = "bayes_extensive"
SMALL = {"d": 40, "n_test": 200, "alpha": (0.5, 1.0), "draws": 1}


def counting(exp: Experiment) -> tuple[Experiment, list[int]]:
    """A copy of ``exp`` whose ``simulate`` records the seeds it is called with."""
    calls: list[int] = []

    def simulate(params: Any, seed: int, device: str = "cpu") -> dict[str, Any]:
        calls.append(seed)
        return exp.simulate(params, seed, device=device)

    return dataclasses.replace(exp, simulate=simulate), calls


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run(SLUG, SMALL, seeds=4)


def _elements(exp: Experiment, params: Any, name: str, value: Any) -> dict[str, float]:
    return {
        element_label(name, coords): x for coords, x in exp.elements(params, name, value)
    }


def be_lambda_atol() -> float:
    from theorylab.experiments.bayes_extensive import EXPERIMENT

    return next(c.atol for c in EXPERIMENT.checks if c.observable == "log_lambda_opt")


def test_run_checks_are_consistent_with_its_numbers(result: RunResult) -> None:
    exp = get(SLUG)
    p = exp.make_params(SMALL)
    assert result.slug == SLUG
    assert result.params.alpha == (0.5, 1.0)
    assert result.params.d == 40
    assert result.simulation is not None
    assert result.simulation.seeds == 4
    assert result.solver.converged

    theory = {}
    mean = {}
    sem = {}
    checked = ("nmse_ridge_opt", "nmse_ridge", "target_power", "log_lambda_opt")
    for name in checked:
        theory |= _elements(exp, p, name, result.theory[name])
        mean |= _elements(exp, p, name, result.simulation.mean[name])
        sem |= _elements(exp, p, name, result.simulation.sem[name])
    agreement = [c for c in result.checks if c.kind == "agreement"]
    # nmse_ridge_opt at 2 α, nmse_ridge at 2 λ × 2 α, target_power, log_lambda_opt at 2 α
    assert sorted(c.observable for c in agreement) == sorted(theory)
    assert len(agreement) == 9
    for c in agreement:
        assert c.theory == theory[c.observable]
        assert c.simulation == mean[c.observable]
        # 3 sem of the seeds, plus the check's own absolute allowance (the optimal penalty)
        atol = be_lambda_atol() if c.observable.startswith("log_lambda") else 0.0
        assert c.tolerance == pytest.approx(3 * sem[c.observable] + atol)
        if abs(c.simulation - c.theory) > c.tolerance:  # outside the band: never a pass
            assert not c.passed
        assert c.resolution == pytest.approx(
            (c.tolerance + abs(c.simulation - c.theory)) / abs(c.theory)
        )
        assert c.reason

    identity = [c for c in result.checks if c.kind == "theory identity"]
    assert len(identity) == 2
    bo = _elements(exp, p, "eg_bo", result.theory["eg_bo"])
    ridge = _elements(exp, p, "eg_ridge_opt", result.theory["eg_ridge_opt"])
    for c, (_, ref), (_, value) in zip(identity, bo.items(), ridge.items(), strict=True):
        assert c.theory == ref
        assert c.value == value
        assert c.simulation is None
        assert c.passed == (abs(value - ref) <= c.tolerance)
    assert len(result.checks) == len(agreement) + len(identity)
    assert result.passed == (result.solver.converged and all(c.passed for c in result.checks))


def test_a_run_with_no_checks_does_not_pass() -> None:
    exp = dataclasses.replace(get(SLUG), checks=())
    res = run(exp, SMALL, simulate=False)
    assert res.checks == () and not res.passed


def test_run_simulation_is_the_mean_of_the_seeds(result: RunResult) -> None:
    exp = get(SLUG)
    p = exp.make_params(SMALL)
    per_seed = [exp.simulate(p, s) for s in range(4)]
    for name in ("eg_ridge_opt", "eg_ridge", "nmse_ridge_opt", "target_power"):
        stack = np.array([np.asarray(s[name], dtype=float) for s in per_seed])
        np.testing.assert_array_equal(result.simulation.mean[name], stack.mean(axis=0))
        np.testing.assert_allclose(
            result.simulation.sem[name], stack.std(axis=0, ddof=1) / 2.0, rtol=1e-12
        )


def test_run_theory_is_the_experiments_theory(result: RunResult) -> None:
    exp = get(SLUG)
    observables, _ = exp.split_theory(exp.theory(exp.make_params(SMALL)))
    assert result.theory.keys() == observables.keys()
    for name, value in observables.items():
        np.testing.assert_array_equal(result.theory[name], value)


def test_run_refuses_zero_seeds() -> None:
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        run(SLUG, SMALL, seeds=0)


def test_run_refuses_a_device_that_a_cpu_only_simulation_cannot_use() -> None:
    """The refusal comes before any work; without simulation (theory only) any device is
    irrelevant and the run proceeds."""
    exp = dataclasses.replace(get(SLUG), cpu_only="a numpy simulation")
    with pytest.raises(ValueError, match="CPU only \\(a numpy simulation\\)"):
        run(exp, SMALL, seeds=1, device="meta")
    assert run(exp, SMALL, simulate=False, device="meta").simulation is None


def test_run_without_simulation_gives_only_theory_identities() -> None:
    exp, calls = counting(get(SLUG))
    res = run(exp, SMALL, simulate=False)
    assert calls == []
    assert res.simulation is None
    assert res.timings["simulation_s"] == 0.0
    assert [c.kind for c in res.checks] == ["theory identity"] * 2
    assert all(c.passed for c in res.checks)
    assert res.passed
    doc = res.to_dict()
    assert doc["simulation"] is None
    json.dumps(doc, allow_nan=False)


def test_run_with_an_experiment_object_runs_that_experiment() -> None:
    exp, calls = counting(get(SLUG))
    res = run(exp, SMALL, seeds=3)
    assert sorted(calls) == [0, 1, 2]
    assert res.simulation is not None
    assert res.simulation.seeds == 3


def test_run_reuses_seeds_from_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    exp, calls = counting(get(SLUG))
    first = run(exp, SMALL, seeds=3, store=store)
    assert sorted(calls) == [0, 1, 2]
    files = {p: p.read_bytes() for p in (store / SLUG).glob("*.json")}
    assert len(files) == 3  # one simulation record per seed (the theory is not stored)

    calls.clear()
    second = run(exp, SMALL, seeds=3, store=store)
    assert calls == []  # no simulation ran
    assert {p: p.read_bytes() for p in (store / SLUG).glob("*.json")} == files
    assert second.to_dict()["simulation"] == first.to_dict()["simulation"]
    assert second.to_dict()["checks"] == first.to_dict()["checks"]

    more = run(exp, SMALL, seeds=5, store=store)
    assert sorted(calls) == [3, 4]  # only the seeds not stored yet
    assert len(list((store / SLUG).glob("*.json"))) == 5
    fresh = run(SLUG, SMALL, seeds=5)
    assert more.to_dict()["simulation"] == fresh.to_dict()["simulation"]

    calls.clear()
    other = run(exp, {**SMALL, "n_test": 201}, seeds=1, store=store)  # another setting
    assert calls == [0]
    assert other.simulation is not None


def test_run_reuses_seeds_stored_by_a_sweep(tmp_path: Path) -> None:
    """run and sweep share records: a sweep point with the same parameters is a run's seeds."""
    store = tmp_path / "store"
    tl.sweep(SLUG, {"alpha": [SMALL["alpha"]]}, SMALL, simulate=True, seeds=2, store=store)
    exp, calls = counting(get(SLUG))
    run(exp, SMALL, seeds=2, store=store)
    assert calls == []
    assert len(Store(store).keys(SLUG)) == 3  # the sweep's theory + 2 seeds, nothing added


def test_run_through_a_process_pool_matches_in_process(result: RunResult) -> None:
    pooled = run(SLUG, SMALL, seeds=4, executor=tl.ExecutorSpec("local", jobs=2))
    assert pooled.to_dict()["simulation"] == result.to_dict()["simulation"]
    assert pooled.to_dict()["checks"] == result.to_dict()["checks"]


def test_run_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="alpha"):
        run(SLUG, {"alpha": -1.0}, simulate=False)
    with pytest.raises(ValueError, match="preset"):
        run(SLUG, SMALL, preset="huge", simulate=False)
    with pytest.raises(ValueError, match=r"not implemented|unknown"):
        run("no_such_paper", simulate=False)


# --------------------------------------------------------------------------------------------
# seed_statistics
# --------------------------------------------------------------------------------------------


def test_seed_statistics_by_hand() -> None:
    rng = np.random.default_rng(0)
    per_seed = [
        {
            "scalar": float(rng.normal()),
            "vector": rng.normal(size=3),
            "matrix": rng.normal(size=(2, 3)),
        }
        for _ in range(5)
    ]
    stats = SimulationStats.from_seeds(per_seed)
    mean, sem = stats.mean, stats.sem
    assert mean.keys() == sem.keys() == {"scalar", "vector", "matrix"}
    for name in mean:
        stack = np.array([np.asarray(s[name]) for s in per_seed])
        n = len(per_seed)
        by_hand_mean = stack.sum(axis=0) / n
        by_hand_sem = np.sqrt(((stack - by_hand_mean) ** 2).sum(axis=0) / (n - 1) / n)
        assert np.shape(mean[name]) == np.shape(per_seed[0][name])
        np.testing.assert_allclose(mean[name], by_hand_mean, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(sem[name], by_hand_sem, rtol=1e-12)


def test_seed_statistics_of_two_known_values() -> None:
    stats = SimulationStats.from_seeds([{"x": 1.0, "y": [0.0, 2.0]}, {"x": 3.0, "y": [0.0, 4.0]}])
    mean, sem = stats.mean, stats.sem
    assert float(mean["x"]) == 2.0
    assert float(sem["x"]) == pytest.approx(1.0)  # std (ddof=1) = √2, / √2
    np.testing.assert_allclose(mean["y"], [0.0, 3.0])
    np.testing.assert_allclose(sem["y"], [0.0, 1.0])


def test_seed_statistics_of_one_seed_has_no_error_bar() -> None:
    stats = SimulationStats.from_seeds([{"x": 1.5, "y": [1.0, 2.0]}])
    mean, sem = stats.mean, stats.sem
    assert float(mean["x"]) == 1.5
    assert math.isnan(float(sem["x"]))
    assert np.isnan(sem["y"]).all()
    assert np.shape(sem["y"]) == (2,)


def test_pooled_draws_give_the_standard_error_of_all_draws() -> None:
    """Three seeds of four draws: mean and sem over the 12 draws (11 degrees of freedom), not
    over the three seed means; an observable without draws keeps the per-seed statistics."""
    rng = np.random.default_rng(1)
    draws = rng.normal(size=(3, 4, 2))
    per_seed = []
    for s in range(3):
        out = seed_output([{"x": d, "c": float(d[0])} for d in draws[s]], pooled=["x"])
        per_seed.append(out)
    stats = SimulationStats.from_seeds(per_seed)
    flat = draws.reshape(12, 2)
    np.testing.assert_allclose(stats.mean["x"], flat.mean(0), rtol=1e-14)
    np.testing.assert_allclose(stats.sem["x"], flat.std(0, ddof=1) / np.sqrt(12), rtol=1e-12)
    seed_means = draws[:, :, 0].mean(1)
    assert stats.sem["c"] == pytest.approx(seed_means.std(ddof=1) / np.sqrt(3), rel=1e-12)
    assert (stats.seeds, stats.draws) == (3, 12)
    assert DRAWS_KEY not in stats.mean
    # one seed of several draws has an error bar; the JSON document says how many draws
    one = SimulationStats.from_seeds(per_seed[:1])
    assert np.isfinite(one.sem["x"]).all() and math.isnan(one.sem["c"])
    assert one.as_dict()["draws"] == 4


def test_seed_output_is_the_mean_of_its_draws_and_refuses_none() -> None:
    out = seed_output([{"x": 1.0, "y": [1.0, 2.0]}, {"x": 3.0, "y": [3.0, 6.0]}])
    assert out["x"] == 2.0
    np.testing.assert_array_equal(out["y"], [2.0, 4.0])
    np.testing.assert_array_equal(out[DRAWS_KEY]["y"], [[1.0, 2.0], [3.0, 6.0]])
    with pytest.raises(ValueError, match="at least one draw"):
        seed_output([])


# --------------------------------------------------------------------------------------------
# RunResult ↔ JSON
# --------------------------------------------------------------------------------------------


def test_run_result_round_trips_through_strict_json(result: RunResult) -> None:
    doc = result.to_dict()
    text = json.dumps(doc, allow_nan=False)
    back = RunResult.from_dict(json.loads(text), get(SLUG))
    assert back.to_dict() == doc
    assert back.params == result.params
    assert isinstance(back.theory["eg_ridge"], np.ndarray) and back.theory["eg_ridge"].shape == (
        2,
        2,
    )
    assert isinstance(back.simulation.mean["eg_ridge_opt"], np.ndarray)
    assert back.checks == result.checks
    assert back.passed == result.passed
    assert back.solver.converged == result.solver.converged
    assert back.solver.iterations == result.solver.iterations
    assert back.elapsed_s == result.elapsed_s
    assert set(doc) >= {"slug", "params", "theory", "simulation", "checks", "passed", "elapsed_s"}
    assert set(doc["simulation"]) == {"mean", "sem", "seeds", "draws"}
    for check in doc["checks"]:
        assert {"observable", "theory", "simulation", "tolerance", "passed", "resolution"} <= set(
            check
        )


def test_one_seed_result_is_strict_json() -> None:
    """With one seed the sem is NaN: the JSON document says null, never NaN."""
    res = run(SLUG, SMALL, seeds=1)
    doc = res.to_dict()
    text = json.dumps(doc, allow_nan=False)
    assert doc["simulation"]["sem"]["target_power"] is None
    back = RunResult.from_dict(json.loads(text), get(SLUG))
    assert back.to_dict() == doc
    assert math.isnan(back.simulation.sem["target_power"])
