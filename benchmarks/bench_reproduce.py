"""Wall time of `theorylab reproduce --quick` at -j 1 and -j 2, per paper and in total.

Each worker of a parallel run gets a fixed share of the cores (threadpoolctl for BLAS,
torch.set_num_threads): on 2 cores, -j 2 gives each worker 1 thread instead of letting 2×2
threads spin against each other. Run on an otherwise idle machine:

    python benchmarks/bench_reproduce.py [SLUG ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time


def reproduce(jobs: int, slugs: list[str]) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "theorylab", "reproduce", *slugs, "--quick", "--json",
               "-j", str(jobs), "--out", out]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(proc.stderr[-2000:])
    return wall, json.loads(proc.stdout)


def main() -> None:
    slugs = sys.argv[1:]
    print(f"cores: {os.cpu_count()}")
    per: dict[int, dict] = {}
    for jobs in (1, 2):
        wall, doc = reproduce(jobs, slugs)
        per[jobs] = {"wall": wall, "runs": doc["runs"], "passed": doc["passed"]}
        print(f"-j {jobs}: {wall:7.1f} s wall, passed={doc['passed']}")
    print(f"\n{'run':<36} {'-j 1 (s)':>9} {'-j 2 (s)':>9} {'checks':>9}")
    for a, b in zip(per[1]["runs"], per[2]["runs"], strict=True):
        name = f"{a['slug']} ({a['variant']})"
        print(f"{name:<36} {a['elapsed_s']:9.1f} {b['elapsed_s']:9.1f} {a['checks']:>9}")
    print(f"{'total':<36} {per[1]['wall']:9.1f} {per[2]['wall']:9.1f}")


if __name__ == "__main__":
    main()
