"""Wall time of `theorylab reproduce --quick` at -j 1 and -j 2, per paper and in total.

Each worker of a parallel run gets a fixed share of the cores (threadpoolctl for BLAS,
torch.set_num_threads): on 2 cores, -j 2 gives each worker 1 thread instead of letting 2×2
threads spin against each other. Run on an otherwise idle machine:

    python benchmarks/bench_reproduce.py [--jobs 1,2] [--out DIR] [SLUG ...]

With ``--out DIR`` the last reproduction's report is kept there (its figures feed the README
gallery).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def reproduce(jobs: int, slugs: list[str], keep: str | None) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "theorylab", "reproduce", *slugs, "--quick", "--json",
               "-j", str(jobs), "--out", out]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if keep:
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(out, keep)
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr[-2000:])
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*")
    parser.add_argument("--jobs", default="1,2", help="comma-separated -j values to time")
    parser.add_argument("--out", default=None, help="keep the last report here")
    args = parser.parse_args()
    jobs_list = [int(j) for j in args.jobs.split(",")]
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the start")
    per: dict[int, dict] = {}
    for jobs in jobs_list:
        wall, doc = reproduce(jobs, args.slugs, args.out)
        per[jobs] = {"wall": wall, "runs": doc["runs"], "passed": doc["passed"]}
        print(f"-j {jobs}: {wall:7.1f} s wall, passed={doc['passed']}", flush=True)
    header = "".join(f"{f'-j {j} (s)':>10}" for j in jobs_list)
    print(f"\n{'run':<36}{header} {'checks':>8} {'passed':>7}")
    first = per[jobs_list[0]]["runs"]
    for i, run in enumerate(first):
        name = f"{run['slug']} ({run['variant']})"
        times = "".join(f"{per[j]['runs'][i]['elapsed_s']:10.1f}" for j in jobs_list)
        print(f"{name:<36}{times} {run['checks']:>8} {run['passed']!s:>7}")
    walls = "".join(f"{per[j]['wall']:10.1f}" for j in jobs_list)
    print(f"{'total (wall)':<36}{walls}")


if __name__ == "__main__":
    main()
