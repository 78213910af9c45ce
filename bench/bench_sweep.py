"""Benchmark of sweeps on Dask (issue 19); prints markdown.

1. The N-1 study ``scenarios/sweeps/n1-flisr.yaml`` (every ``--every``-th
   line, FLISR on and off, one day at 5 min per variant), three ways on the
   same jobs, each into a fresh folder:

   - a plain loop in this process (:func:`gridtwin.sweeps.task.run_job` per
     variant: no Dask at all);
   - a Dask LocalCluster of 1 worker process;
   - a Dask LocalCluster of 2 worker processes.

   Speed-up = time of 1 worker / time of 2 workers (target >= 1.8x). Overhead
   per variant = (time with 1 worker - time of the loop) / variants (target
   <= 0.3 s): scheduling, pickling the job, gathering the row, and the
   worker's imports. Cluster start-up is timed apart.
2. Per-variant wall time of a sample of each shipped sweep (``--sample``
   variants each, plain loop), for the variants-per-hour estimate.

Run: ``python bench/bench_sweep.py [--every N] [--sample N]`` (defaults 3 and 4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from gridtwin.sweeps.plan import Job, make_plan
from gridtwin.sweeps.runner import cluster_client, run_jobs, wanted_kpis
from gridtwin.sweeps.task import run_job

REPO = Path(__file__).resolve().parent.parent
SWEEPS = REPO / "scenarios" / "sweeps"


def _into(jobs: list[Job], folder: Path) -> list[Job]:
    return [replace(j, run_dir=str(folder / j.id)) for j in jobs]


def loop(jobs: list[Job], wanted: list[str] | None) -> tuple[float, list[dict]]:
    """All jobs one after the other in this process."""
    t0 = time.perf_counter()
    rows = [run_job(j, wanted) for j in jobs]
    return time.perf_counter() - t0, rows


def on_dask(jobs: list[Job], wanted: list[str] | None, workers: int) -> tuple[float, float, list]:
    """(cluster start [s], all jobs [s], rows) on a new LocalCluster of ``workers`` processes."""
    t0 = time.perf_counter()
    with cluster_client(workers, None) as client:
        client.wait_for_workers(workers)
        start_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        rows = list(run_jobs(client, jobs, wanted))
        run_s = time.perf_counter() - t1
    return start_s, run_s, rows


def n1_study(every: int, tmp: Path) -> None:
    plan = make_plan(SWEEPS / "n1-flisr.yaml")
    jobs = plan.jobs[::every]
    wanted = wanted_kpis(plan)
    n = len(jobs)
    print(f"N-1 study: {n} variants (every {every}th of {len(plan.jobs)}), load {_load()}\n")
    loop_s, loop_rows = loop(_into(jobs, tmp / "loop"), wanted)
    print(f"- plain loop, one process: {loop_s:.1f} s ({loop_s / n:.2f} s/variant), load {_load()}")
    s1, t1, rows1 = on_dask(_into(jobs, tmp / "w1"), wanted, 1)
    print(
        f"- Dask, 1 worker: {t1:.1f} s ({t1 / n:.2f} s/variant; start {s1:.1f} s), load {_load()}"
    )
    s2, t2, rows2 = on_dask(_into(jobs, tmp / "w2"), wanted, 2)
    print(
        f"- Dask, 2 workers: {t2:.1f} s ({t2 / n:.2f} s/variant; start {s2:.1f} s), load {_load()}"
    )
    same = _key(loop_rows) == _key(rows1) == _key(rows2)
    print(f"\nspeed-up 2 workers over 1: {t1 / t2:.2f}x (target >= 1.8x)")
    print(
        f"overhead per variant, 1 worker vs the loop: {(t1 - loop_s) / n:+.3f} s (target <= 0.3 s)"
    )
    print(f"rows identical (loop, 1 worker, 2 workers; wall_s left out): {same}")
    failed = sum(r["status"] != "ok" for r in rows2)
    print(f"failed variants: {failed}\n")


def _key(rows: list[dict]) -> list:
    return sorted((r["variant"], r["status"], sorted(r["kpis"].items())) for r in rows)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def per_variant(sample: int, tmp: Path) -> None:
    print("| sweep | variants | sampled | wall s per variant (median, min-max) |")
    print("|---|---:|---:|---|")
    for path in sorted(SWEEPS.glob("*.yaml")):
        plan = make_plan(path)
        step = max(1, len(plan.jobs) // sample)
        jobs = _into(plan.jobs[::step][:sample], tmp / path.stem)
        _, rows = loop(jobs, wanted_kpis(plan))
        walls = [r["wall_s"] for r in rows]
        spread = f"{min(walls):.2f}-{max(walls):.2f}"
        print(
            f"| {path.stem} | {len(plan.jobs)} | {len(jobs)} "
            f"| {statistics.median(walls):.2f} ({spread}) |"
        )
    print(f"\nload {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=3, help="every n-th variant of the N-1 study")
    parser.add_argument("--sample", type=int, default=4, help="variants per shipped sweep")
    parser.add_argument("--skip-n1", action="store_true", help="only the per-variant times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_n1:
            n1_study(args.every, Path(tmp))
        per_variant(args.sample, Path(tmp))


if __name__ == "__main__":
    main()
