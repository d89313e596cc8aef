"""models.parallel: jobs in spawned processes give the serial results, in order."""

from __future__ import annotations

import multiprocessing

from theorylab.models.parallel import run_jobs


def _power(base: int, exponent: int) -> tuple[int, str, int]:
    import torch

    return base**exponent, multiprocessing.current_process().name, torch.get_num_threads()


def test_processes_match_serial_order_and_use_one_thread():
    jobs = [(b, e) for b in (2, 3, 5) for e in (1, 2)]
    serial = run_jobs(_power, jobs, workers=1)
    spawned = run_jobs(_power, jobs, workers=2)
    assert [r[0] for r in spawned] == [r[0] for r in serial] == [b**e for b, e in jobs]
    assert all(r[1] == "MainProcess" for r in serial)
    assert all(r[1] != "MainProcess" and r[2] == 1 for r in spawned)


def test_single_job_runs_here():
    ((value, where, _),) = run_jobs(_power, [(7, 2)], workers=4)
    assert value == 49 and where == "MainProcess"


def _tag(prefix: str, key: int) -> str:
    return f"{prefix}{key}"


def test_run_keyed_maps_keys_to_results():
    from theorylab.models.parallel import run_keyed

    for workers in (1, 2):
        assert run_keyed(_tag, [3, 0, 1], ("L=",), workers) == {3: "L=3", 0: "L=0", 1: "L=1"}
