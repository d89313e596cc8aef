"""The result store and task keys: atomic records, deterministic keys, exact round trips."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from theorylab.experiments.result import DRAWS_KEY, to_jsonable
from theorylab.runner import tasks as tasks_module
from theorylab.runner.store import Store
from theorylab.runner.tasks import Task, execute

SLUG = "bayes_extensive"
SMALL = {"alpha": [0.5, 1.0], "lam": [0.01, 1.0], "d": 40, "n_test": 200, "draws": 1}


def _record(key: str = "k" * 24, value: float = 1.5) -> dict:
    return {"key": key, "slug": SLUG, "kind": "theory", "seed": None, "observables": {"x": value}}


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def test_write_creates_one_whole_record_and_no_temporary(tmp_path: Path) -> None:
    store = Store(tmp_path)
    rec = _record()
    path = store.write(rec)
    assert path == tmp_path / SLUG / f"{rec['key']}.json"
    assert json.loads(path.read_text()) == rec
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert store.has(SLUG, rec["key"])
    assert store.keys(SLUG) == {rec["key"]}


def test_write_renames_a_complete_temporary_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the moment of the rename the target does not exist yet and the temporary file in the
    same folder already holds the whole record: a reader sees all of it or nothing."""
    store = Store(tmp_path)
    rec = _record()
    seen: list[tuple[str, bool, dict]] = []
    real_replace = os.replace

    def spy(src, dst):
        src, dst = Path(src), Path(dst)
        seen.append((src.name, dst.exists(), json.loads(src.read_text())))
        assert src.parent == dst.parent
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    store.write(rec)
    assert len(seen) == 1
    tmp_name, target_existed, content = seen[0]
    assert tmp_name.startswith(".tmp-")
    assert not target_existed
    assert content == rec


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)

    def boom(fd: int) -> None:
        raise KeyboardInterrupt  # e.g. Ctrl-C between the write and the rename

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(KeyboardInterrupt):
        store.write(_record())
    assert list((tmp_path / SLUG).iterdir()) == []
    assert store.keys(SLUG) == set()


def test_non_finite_record_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(ValueError):
        store.write(_record(value=math.nan))  # records are strict JSON
    assert list((tmp_path / SLUG).iterdir()) == []


def test_killed_writer_leaves_old_record_whole_and_temporary_ignored(tmp_path: Path) -> None:
    """A writer SIGKILLed just before its rename leaves a ``.tmp-*`` file; the store ignores it
    and the record it was replacing is untouched."""
    store = Store(tmp_path)
    old = _record(value=1.0)
    old_path = store.write(old)
    old_bytes = old_path.read_bytes()
    other = _record(key="b" * 24, value=2.0)
    store.write(other)

    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from theorylab.runner.store import Store
        os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
        Store(Path({str(tmp_path)!r})).write({_record(value=99.0)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9, proc.stderr.decode()

    leftovers = [p for p in (tmp_path / SLUG).iterdir() if p.name.startswith(".tmp-")]
    assert len(leftovers) == 1  # the killed writer's temporary file, complete but not renamed
    assert json.loads(leftovers[0].read_text())["observables"] == {"x": 99.0}
    assert old_path.read_bytes() == old_bytes
    assert store.keys(SLUG) == {old["key"], other["key"]}
    by_key = {r["key"]: r for r in store.records(SLUG)}
    assert by_key == {old["key"]: old, other["key"]: other}
    assert store.clean_temporary(SLUG) == 0  # too recent: may belong to a live writer
    assert store.clean_temporary(SLUG, older_than_s=0.0) == 1
    assert not any(p.name.startswith(".tmp-") for p in (tmp_path / SLUG).iterdir())
    assert store.keys(SLUG) == {old["key"], other["key"]}


def test_truncated_temporary_is_ignored(tmp_path: Path) -> None:
    store = Store(tmp_path)
    rec = _record()
    store.write(rec)
    (tmp_path / SLUG / ".tmp-abc123.json").write_text('{"key": "trunc')  # half-written
    (tmp_path / SLUG / ".tmp-def456").write_text("")
    assert store.keys(SLUG) == {rec["key"]}
    assert list(store.records(SLUG)) == [rec]


def test_empty_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "nothing")
    assert store.keys(SLUG) == set()
    assert list(store.records(SLUG)) == []
    assert store.clean_temporary(SLUG) == 0
    assert not (tmp_path / "nothing").exists()


# --------------------------------------------------------------------------------------------
# Task keys
# --------------------------------------------------------------------------------------------


def test_key_is_independent_of_param_order() -> None:
    a = Task.make(SLUG, {"d": 40, "alpha": [1.0], "n_test": 200}, 3, "simulation")
    b = Task.make(SLUG, {"n_test": 200, "alpha": [1.0], "d": 40}, 3, "simulation")
    assert a == b
    assert a.key == b.key
    assert len(a.key) == 24
    int(a.key, 16)  # hexadecimal


def test_key_accepts_numpy_and_tuples_like_plain_values() -> None:
    plain = Task.make(SLUG, {"alpha": [0.5, 1.0], "d": 40}, 0, "simulation")
    numpy = Task.make(SLUG, {"alpha": np.array([0.5, 1.0]), "d": np.int64(40)}, 0, "simulation")
    tupled = Task.make(SLUG, {"alpha": (0.5, 1.0), "d": 40}, 0, "simulation")
    assert plain.key == numpy.key == tupled.key


@pytest.mark.parametrize(
    ("change", "kwargs"),
    [
        ("param value", {"params": {**SMALL, "d": 41}}),
        ("grid value", {"params": {**SMALL, "alpha": [0.5, 2.0]}}),
        ("extra param", {"params": {**SMALL, "noise": 0.1}}),
        ("seed", {"seed": 1}),
        ("kind", {"kind": "theory", "seed": None}),
        ("slug", {"slug": "deep_random_features"}),
    ],
)
def test_key_changes_with_every_part_of_the_task(change: str, kwargs: dict) -> None:
    base = {"slug": SLUG, "params": SMALL, "seed": 0, "kind": "simulation"}
    assert Task.make(**base).key != Task.make(**{**base, **kwargs}).key, change


def test_key_changes_with_the_protocol_not_with_the_package_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task = Task.make(SLUG, SMALL, 0, "simulation")
    before = task.key
    assert Task.make(SLUG, SMALL, 0, "simulation", protocol=2).key != before
    monkeypatch.setattr(tasks_module, "__version__", "999.0")
    assert task.key == before


def test_device_and_threads_are_not_part_of_the_key() -> None:
    base = Task.make(SLUG, SMALL, 0, "simulation")
    other = Task.make(SLUG, SMALL, 0, "simulation", device="cuda", threads=1)
    assert other.key == base.key and other != base


def test_theory_task_ignores_seed_and_simulation_needs_one() -> None:
    assert Task.make(SLUG, SMALL, 5, "theory") == Task.make(SLUG, SMALL, None, "theory")
    assert Task.make(SLUG, SMALL, None, "theory").seed is None
    with pytest.raises(ValueError, match="seed"):
        Task.make(SLUG, SMALL, None, "simulation")


def test_numpy_seed_gives_the_same_task() -> None:
    task = Task.make(SLUG, SMALL, np.int64(3), "simulation")
    assert task == Task.make(SLUG, SMALL, 3, "simulation")
    assert type(task.seed) is int
    assert len(task.key) == 24


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        Task.make(SLUG, SMALL, 0, "simulations")  # type: ignore[arg-type]


def test_key_is_the_same_in_another_interpreter() -> None:
    """Keys are content hashes (not ``hash()``): stable across processes and hash seeds."""
    task = Task.make(SLUG, SMALL, 7, "simulation")
    script = (
        "from theorylab.runner.tasks import Task;"
        f"print(Task.make({SLUG!r}, {dict(reversed(SMALL.items()))!r}, 7, 'simulation').key)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == task.key


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["theory", "simulation"])
def test_executed_record_round_trips_through_the_store(tmp_path: Path, kind: str) -> None:
    task = Task.make(SLUG, SMALL, 2 if kind == "simulation" else None, kind)
    rec = execute(task, str(tmp_path))
    store = Store(tmp_path)
    assert store.keys(SLUG) == {task.key}
    assert list(store.records(SLUG)) == [rec]  # exact: floats survive JSON unchanged
    assert rec["key"] == task.key
    assert rec["kind"] == kind
    assert rec["seed"] == task.seed
    assert rec["params"] == json.loads(task.params)
    if kind == "theory":
        assert rec["solver"]["converged"] is True
        assert set(rec["observables"]) >= {"eg_bo", "eg_ridge_opt", "lambda_star"}
    else:
        assert set(rec["observables"]) == {
            "eg_ridge_opt",
            "eg_ridge",
            "nmse_ridge_opt",
            "nmse_ridge",
            "log_lambda_opt",
            "target_power",
            DRAWS_KEY,
        }
        assert np.shape(rec["observables"]["eg_ridge"]) == (2, 2)
        assert np.shape(rec["observables"][DRAWS_KEY]["eg_ridge"]) == (1, 2, 2)  # one draw
    json.dumps(rec, allow_nan=False)


def test_execute_is_reproducible_and_rewrites_the_same_key(tmp_path: Path) -> None:
    task = Task.make(SLUG, SMALL, 4, "simulation")
    first = execute(task, str(tmp_path))
    second = execute(task, str(tmp_path))
    assert first["observables"] == second["observables"]
    assert Store(tmp_path).keys(SLUG) == {task.key}
    assert len(list((tmp_path / SLUG).iterdir())) == 1


def test_to_jsonable_makes_strict_json() -> None:
    value = {
        "a": np.array([[1.0, np.nan], [np.inf, 2.0]]),
        "b": np.float32(0.5),
        "c": (np.int64(3), -math.inf),
        4: "x",
    }
    out = to_jsonable(value)
    assert out == {"a": [[1.0, None], [None, 2.0]], "b": 0.5, "c": [3, None], "4": "x"}
    assert type(out["c"][0]) is int
    json.dumps(out, allow_nan=False)
