"""Sweeps through every executor (for real), resumption after SIGKILL, and ``load``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import theorylab as tl
from theorylab.experiments.base import Experiment
from theorylab.experiments.result import DRAWS_KEY
from theorylab.runner.executors import ExecutorSpec
from theorylab.runner.registry import get
from theorylab.runner.store import Store
from theorylab.runner.sweep import SweepSummary, expand_grid, sweep, sweep_tasks

SLUG = "bayes_extensive"
ALPHAS = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0]
SEEDS = 3
BASE = {"d": 40, "n_test": 200, "draws": 1}  # a simulation seed takes a few ms at this size
N_TASKS = len(ALPHAS) * (1 + SEEDS)

EXECUTORS = {
    "local-1": lambda tmp: ExecutorSpec("local", jobs=1),
    "local-2": lambda tmp: ExecutorSpec("local", jobs=2),
    "dask-2": lambda tmp: ExecutorSpec("dask", jobs=2),
    "submitit-local-2": lambda tmp: ExecutorSpec(
        "submitit-local", jobs=2, folder=str(tmp / "submitit-logs")
    ),
}


def expected_keys(grid: dict[str, list], base: dict[str, Any], seeds: int) -> set[str]:
    exp = get(SLUG)
    return {t.key for t in sweep_tasks(exp, expand_grid(exp, base, grid), seeds, simulate=True)}


def store_files(root: Path) -> dict[str, bytes]:
    """Every complete record file of the store (name → bytes)."""
    folder = root / SLUG
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in folder.glob("*.json") if not p.name.startswith(".tmp-")}


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The same sweep through each executor into its own store, then once more (all stored)."""
    out: dict[str, dict[str, Any]] = {}
    for name, make_spec in EXECUTORS.items():
        tmp = tmp_path_factory.mktemp(name)
        store = tmp / "store"
        spec = make_spec(tmp)
        kwargs = {"simulate": True, "seeds": SEEDS, "executor": spec, "store": store}
        first = sweep(SLUG, {"alpha": ALPHAS}, BASE, **kwargs)
        files = store_files(store)
        second = sweep(SLUG, {"alpha": ALPHAS}, BASE, **kwargs)
        out[name] = {
            "first": first,
            "second": second,
            "store": store,
            "files": files,
            "files_after": store_files(store),
        }
    return out


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_sweep_stores_every_task_once(swept: dict, name: str) -> None:
    res = swept[name]
    first: SweepSummary = res["first"]
    assert (first.points, first.tasks) == (len(ALPHAS), N_TASKS)
    assert (first.skipped, first.ran, first.failed, first.unconverged) == (0, N_TASKS, 0, 0)
    assert first.errors == ()
    assert first.store == str(res["store"])

    records = list(Store(res["store"]).records(SLUG))
    kinds = Counter(r["kind"] for r in records)
    assert kinds == {"theory": len(ALPHAS), "simulation": len(ALPHAS) * SEEDS}
    keys = [r["key"] for r in records]
    assert len(keys) == len(set(keys)) == N_TASKS
    assert set(keys) == expected_keys({"alpha": ALPHAS}, BASE, SEEDS)
    assert {f"{k}.json" for k in keys} == set(res["files"])
    points = Counter((tuple(r["params"]["alpha"]), r["seed"]) for r in records)
    assert set(points.values()) == {1}
    assert {a for (a,), _ in points} == set(ALPHAS)
    assert all(r["solver"]["converged"] for r in records if r["kind"] == "theory")
    assert not any(p.name.startswith(".tmp-") for p in (res["store"] / SLUG).iterdir())


@pytest.mark.parametrize("name", list(EXECUTORS))
def test_second_sweep_skips_everything(swept: dict, name: str) -> None:
    res = swept[name]
    second: SweepSummary = res["second"]
    assert (second.tasks, second.skipped, second.ran, second.failed) == (N_TASKS, N_TASKS, 0, 0)
    assert res["files_after"] == res["files"]  # nothing rewritten


def test_executors_give_identical_records(swept: dict) -> None:
    """Seeded reproducibility: the same task gives the same observables wherever it runs."""
    by_name = {
        name: {r["key"]: r for r in Store(res["store"]).records(SLUG)}
        for name, res in swept.items()
    }
    reference = by_name["local-1"]
    pids = {name: {r["pid"] for r in recs.values()} for name, recs in by_name.items()}
    assert pids["local-1"] == {os.getpid()}  # one job: in this process
    for name in ("local-2", "dask-2", "submitit-local-2"):
        assert os.getpid() not in pids[name], name  # really ran elsewhere
        assert by_name[name].keys() == reference.keys()
        for key, rec in by_name[name].items():
            ref = reference[key]
            assert (rec["kind"], rec["seed"], rec["params"]) == (
                ref["kind"],
                ref["seed"],
                ref["params"],
            )
            assert rec["observables"] == ref["observables"], (name, rec["kind"], rec["seed"])


def test_different_seeds_differ(swept: dict) -> None:
    recs = [r for r in Store(swept["local-1"]["store"]).records(SLUG) if r["kind"] == "simulation"]
    at_one = [r["observables"]["target_power"] for r in recs if r["params"]["alpha"] == [1.0]]
    assert len(at_one) == SEEDS
    assert len(set(at_one)) == SEEDS


def test_sweep_adds_only_missing_tasks(tmp_path: Path) -> None:
    """A bigger sweep over a store runs only what the smaller one did not."""
    store = tmp_path / "store"
    small = sweep(SLUG, {"alpha": [0.5, 1.0]}, BASE, simulate=True, seeds=2, store=store)
    assert (small.tasks, small.ran) == (6, 6)
    before = store_files(store)
    big = sweep(SLUG, {"alpha": [0.5, 1.0, 2.0]}, BASE, simulate=True, seeds=3, store=store)
    assert (big.tasks, big.skipped, big.ran) == (12, 6, 6)
    after = store_files(store)
    assert len(after) == 12
    assert {k: after[k] for k in before} == before
    theory_only = sweep(SLUG, {"alpha": [0.5, 1.0, 2.0]}, BASE, store=store)
    assert (theory_only.tasks, theory_only.skipped, theory_only.ran) == (3, 3, 0)


def _failing_on_odd_seeds(exp: Experiment) -> Experiment:
    def simulate(params: Any, seed: int, device: str = "cpu") -> dict[str, Any]:
        if seed % 2:
            raise RuntimeError(f"simulation failed at seed {seed}")
        return exp.simulate(params, seed, device=device)

    return dataclasses.replace(exp, simulate=simulate)


@pytest.mark.parametrize("name", ["local-1", "submitit-local-2"])
def test_failing_tasks_are_counted_and_do_not_sink_the_others(tmp_path: Path, name: str) -> None:
    """A task that raises is reported in the summary; every other task still stores its record
    (also when submitit runs several tasks in one job), and a rerun retries only the failures."""
    exp = _failing_on_odd_seeds(get(SLUG))
    spec = EXECUTORS[name](tmp_path)
    store = tmp_path / "store"
    grid = {"alpha": [0.5, 1.0]}
    summary = sweep(exp, grid, BASE, simulate=True, seeds=4, executor=spec, store=store)
    assert (summary.tasks, summary.ran, summary.failed) == (10, 6, 4)
    assert len(summary.errors) == 4
    assert all("simulation failed at seed" in e for e in summary.errors)
    records = list(Store(store).records(SLUG))
    assert Counter(r["kind"] for r in records) == {"theory": 2, "simulation": 4}
    assert {r["seed"] for r in records if r["kind"] == "simulation"} == {0, 2}

    again = sweep(exp, grid, BASE, simulate=True, seeds=4, store=store)
    assert (again.skipped, again.ran, again.failed) == (6, 0, 4)


# --------------------------------------------------------------------------------------------
# Resumption after SIGKILL
# --------------------------------------------------------------------------------------------

# At d = 300, n_test = 2000 one simulation seed at one α takes ≈ 0.1 s (measured on 2 cores),
# so this sweep of 4 × (1 + 6) = 28 tasks needs several seconds (plus ≈ 2 s of start-up).
KILL_ALPHAS = [0.5, 1.0, 1.5, 2.0]
KILL_SEEDS = 6
KILL_BASE = {"d": 300, "n_test": 2000, "draws": 1}
KILL_TASKS = len(KILL_ALPHAS) * (1 + KILL_SEEDS)


def _sweep_command(store: Path, jobs: int, executor: str = "local") -> list[str]:
    return [
        sys.executable,
        "-m",
        "theorylab",
        "sweep",
        SLUG,
        "-g",
        "alpha=" + ",".join(map(str, KILL_ALPHAS)),
        *[a for k, v in KILL_BASE.items() for a in ("-p", f"{k}={v}")],
        "--simulate",
        "--seeds",
        str(KILL_SEEDS),
        "--store",
        str(store),
        "--jobs",
        str(jobs),
        "--executor",
        executor,
        "--json",
    ]


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the sweep and its workers, and give the kernel a moment to finish them off."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)  # workers (or their zombies) still in the group
        except ProcessLookupError:
            break
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("executor", "jobs"), [("local", 1), ("local", 2), ("dask", 2), ("submitit-local", 2)]
)
def test_sigkilled_sweep_resumes_without_losing_records(
    tmp_path: Path, executor: str, jobs: int
) -> None:
    """SIGKILL of the whole sweep (client, pool, cluster, local jobs), then a rerun: the records
    stored before the kill are byte-identical, nothing stored is recomputed, nothing doubled."""
    store = tmp_path / "store"
    cmd = _sweep_command(store, jobs, executor)
    proc = subprocess.Popen(
        cmd,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the pool workers die with it
    )
    try:
        deadline = time.monotonic() + 120
        while len(store_files(store)) < 4:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "no records appeared"
            time.sleep(0.02)
    finally:
        _kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    survivors = store_files(store)
    assert 4 <= len(survivors) < KILL_TASKS, "the sweep finished before it could be killed"
    for content in survivors.values():  # every surviving record is whole
        json.loads(content)

    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["tasks"] == KILL_TASKS
    assert summary["skipped"] == len(survivors)
    assert summary["ran"] == KILL_TASKS - len(survivors)
    assert summary["failed"] == 0

    final = store_files(store)
    assert len(final) == KILL_TASKS
    assert {Path(n).stem for n in final} == expected_keys(
        {"alpha": KILL_ALPHAS}, KILL_BASE, KILL_SEEDS
    )
    keys = [r["key"] for r in Store(store).records(SLUG)]
    assert len(keys) == len(set(keys)) == KILL_TASKS
    for name, content in survivors.items():
        assert final[name] == content, f"{name} changed after the resume"


def test_sweep_survives_a_killed_dask_worker(tmp_path: Path) -> None:
    """SIGKILL one dask worker process (not the client) while it runs a task: the nanny starts
    a new worker, the scheduler reruns the lost task, and the sweep completes with every task
    stored exactly once. (With ``distributed.scheduler.allowed-failures = 0`` the lost task
    fails instead: ``KilledWorker`` in the summary.)"""
    import threading

    pids = tmp_path / "pids"
    pids.mkdir()
    base = get(SLUG)
    original = base.simulate

    def slow_simulate(params, seed, device="cpu"):
        (pids / f"{os.getpid()}-{seed}-{params.alpha[0]}").touch()
        time.sleep(0.4)  # long enough to be killed in the middle
        return original(params, seed, device=device)

    exp = dataclasses.replace(base, simulate=slow_simulate)
    grid = {"alpha": [0.5, 1.0, 2.0]}
    result: dict[str, SweepSummary] = {}
    kwargs = {"simulate": True, "seeds": 4, "store": tmp_path / "store"}
    spec = ExecutorSpec("dask", jobs=2)
    runner = threading.Thread(
        target=lambda: result.update(s=sweep(exp, grid, BASE, executor=spec, **kwargs))
    )
    runner.start()
    deadline = time.monotonic() + 120
    while not any(pids.iterdir()):
        assert runner.is_alive() and time.monotonic() < deadline, "no task started"
        time.sleep(0.01)
    victim = int(next(pids.iterdir()).name.split("-")[0])
    assert victim != os.getpid()
    os.kill(victim, signal.SIGKILL)
    runner.join(timeout=300)
    summary = result["s"]
    assert (summary.tasks, summary.ran, summary.failed) == (15, 15, 0), summary.errors
    started = {tuple(p.name.split("-")[1:]) for p in pids.iterdir()}
    by_victim = [p for p in pids.iterdir() if p.name.startswith(f"{victim}-")]
    assert len(started) == 12 and by_victim  # every seed ran, one of them on the killed worker
    files = store_files(tmp_path / "store")
    keys = [r["key"] for r in Store(tmp_path / "store").records(SLUG)]
    assert len(files) == len(keys) == len(set(keys)) == 15


# --------------------------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------------------------


def test_load_gives_one_row_per_element(swept: dict) -> None:
    store = swept["local-1"]["store"]
    df = tl.load(SLUG, store=store)
    records = list(Store(store).records(SLUG))
    n_elements = sum(  # a seed's draws are summed up in its means: rows of those only
        np.asarray(v).size for r in records for k, v in r["observables"].items() if k != DRAWS_KEY
    )
    assert len(df) == n_elements

    documented = {"kind", "seed", "alpha", "lam", "observable", "value", "converged", "key"}
    scalars = {"activation", "depth", "gamma", "weight_variance", "readout_variance", "noise"}
    assert documented | scalars | {"d", "n_test"} <= set(df.columns)
    assert set(df["kind"]) == {"theory", "simulation"}
    assert df.groupby("key").ngroups == N_TASKS
    assert (df["d"] == BASE["d"]).all()
    assert (df["n_test"] == BASE["n_test"]).all()
    assert set(df.loc[df["kind"] == "simulation", "seed"]) == set(range(SEEDS))
    assert df.loc[df["kind"] == "theory", "seed"].isna().all()
    assert df.loc[df["kind"] == "theory", "converged"].eq(True).all()

    per_obs = df.groupby(["kind", "observable"]).size()
    assert per_obs[("simulation", "eg_ridge")] == len(ALPHAS) * SEEDS * 2  # lam × alpha
    assert per_obs[("simulation", "eg_ridge_opt")] == len(ALPHAS) * SEEDS
    assert per_obs[("theory", "eg_bo")] == len(ALPHAS)
    ridge = df[df["observable"] == "eg_ridge"]
    assert set(ridge["lam"]) == {0.01, 1.0}
    assert set(ridge["alpha"]) == set(ALPHAS)
    # a scalar observable keeps its grid point: alpha is a one-value grid in every task
    power = df[(df["observable"] == "target_power") & (df["kind"] == "simulation")]
    assert set(power["alpha"]) == set(ALPHAS)
    assert (df["protocol"] == tl.get(SLUG).protocol).all()


def test_load_skips_other_protocols_unless_asked(swept: dict, tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(swept["local-1"]["store"], store)
    path = next((store / SLUG).glob("*.json"))
    rec = json.loads(path.read_text())
    rec["protocol"] = tl.get(SLUG).protocol + 1
    path.write_text(json.dumps(rec))
    current = tl.load(SLUG, store=store)
    everything = tl.load(SLUG, store=store, all_protocols=True)
    assert rec["key"] not in set(current["key"])
    assert rec["key"] in set(everything["key"])


def test_repeated_grid_values_are_one_task(tmp_path: Path) -> None:
    summary = tl.sweep(SLUG, {"alpha": [(1.0,), (1.0,)]}, BASE, store=tmp_path / "s")
    assert summary.tasks == 1 and summary.ran == 1


def test_load_seed_means_match_the_json_files(swept: dict) -> None:
    store = swept["local-1"]["store"]
    df = tl.load("2302.00375", store=store)  # the arXiv id works here too
    sim = df[df["kind"] == "simulation"]
    means = sim.groupby(["observable", "alpha", "lam"], dropna=False)["value"].mean()

    by_hand: dict[tuple[str, float, float], list[float]] = {}
    for path in (store / SLUG).glob("*.json"):
        rec = json.loads(path.read_text())
        if rec["kind"] != "simulation":
            continue
        (alpha,) = rec["params"]["alpha"]
        obs = rec["observables"]
        by_hand.setdefault(("eg_ridge_opt", alpha, np.nan), []).append(obs["eg_ridge_opt"][0])
        for i, lam in enumerate(rec["params"]["lam"]):
            by_hand.setdefault(("eg_ridge", alpha, lam), []).append(obs["eg_ridge"][i][0])
    assert len(by_hand) == 3 * len(ALPHAS)
    for (name, alpha, lam), values in by_hand.items():
        assert len(values) == SEEDS
        if np.isnan(lam):
            got = means.loc[(name, alpha)]
            got = got[got.index.isna()].iloc[0] if isinstance(got, pd.Series) else got
        else:
            got = means.loc[(name, alpha, lam)]
        assert got == pytest.approx(np.mean(values), rel=1e-13)

    theory = df[(df["kind"] == "theory") & (df["observable"] == "eg_bo")].set_index("alpha")
    for path in (store / SLUG).glob("*.json"):
        rec = json.loads(path.read_text())
        if rec["kind"] == "theory":
            (alpha,) = rec["params"]["alpha"]
            assert theory.loc[alpha, "value"] == rec["observables"]["eg_bo"][0]


def test_load_of_an_empty_store(tmp_path: Path) -> None:
    df = tl.load(SLUG, store=tmp_path)
    assert isinstance(df, pd.DataFrame)
    assert len(df) == 0
