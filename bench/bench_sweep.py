"""Benchmark of sweeps on Dask (issue 19); prints markdown.

1. The N-1 study ``scenarios/sweeps/n1-flisr.yaml`` (every ``--every``-th
   line, FLISR on and off, one day at 5 min per variant), three ways on the
   same jobs, each into a fresh folder:

   - a plain loop in this process (:func:`gridtwin.sweeps.task.run_job` per
     variant: no Dask at all);
   - a Dask LocalCluster of 1 worker process;
   - a Dask LocalCluster of 2 worker processes;

   interleaved: each round runs the same ``--chunk`` variants the three ways
   (rotating which goes first), so that the three see the same share of a
   machine other jobs load too. Every process is warmed by one variant first.

   Speed-up = time of 1 worker / time of 2 workers (target >= 1.8x). Overhead
   per variant = (time with 1 worker - time of the loop) / variants (target
   <= 0.3 s): scheduling, pickling the job and gathering the row.
2. Per-variant wall time and run-directory size of a sample of each shipped
   sweep (``--sample`` variants each, plain loop), for the variants-per-hour
   estimate and the write rate shared storage must take.
3. The scheduler's ceiling: empty tasks per second through a LocalCluster.

Run: ``python bench/bench_sweep.py [--every N] [--chunk N] [--sample N]`` (defaults 3, 10, 4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

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


def cpu_s() -> float:
    """CPU seconds of this process (client, scheduler, nannies) and its children (workers)."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:  # gone in between
            pass
    return total


def on_client(client: Any, jobs: list[Job], wanted: list[str] | None) -> tuple[float, list]:
    """All jobs on a cluster already running: (wall [s], rows)."""
    t0 = time.perf_counter()
    rows = list(run_jobs(client, jobs, wanted))
    return time.perf_counter() - t0, rows


def n1_study(every: int, chunk: int, tmp: Path) -> None:
    """Loop, 1 worker and 2 workers on the same jobs, interleaved chunk by chunk.

    The machine is shared: running the three ways one after the other would
    give each a different load. Here each round runs the same ``chunk`` jobs
    the three ways (in a rotating order), so all three see the same mix of load.
    """
    plan = make_plan(SWEEPS / "n1-flisr.yaml")
    jobs = plan.jobs[::every]
    wanted = wanted_kpis(plan)
    n = len(jobs)
    print(f"N-1 study: {n} variants (every {every}th of {len(plan.jobs)}), load {_load()}\n")
    with cluster_client(1, None) as c1, cluster_client(2, None) as c2:
        c2.wait_for_workers(2)
        warm = plan.jobs[1:3]  # imports and the SimBench cache, in every process
        loop(_into(warm[:1], tmp / "warm-loop"), wanted)
        on_client(c1, _into(warm[:1], tmp / "warm-1"), wanted)
        on_client(c2, _into(warm, tmp / "warm-2"), wanted)
        modes = {
            "loop": lambda js: loop(js, wanted),
            "1 worker": lambda js: on_client(c1, js, wanted),
            "2 workers": lambda js: on_client(c2, js, wanted),
        }
        wall = dict.fromkeys(modes, 0.0)
        cpu = dict.fromkeys(modes, 0.0)
        rows: dict[str, list] = {m: [] for m in modes}
        for r, i in enumerate(range(0, n, chunk)):
            names = list(modes)[r % 3 :] + list(modes)[: r % 3]
            for mode in names:
                c0 = cpu_s()
                t, got = modes[mode](_into(jobs[i : i + chunk], tmp / mode))
                cpu[mode] += cpu_s() - c0
                wall[mode] += t
                rows[mode] += got
            print(f"  round {r + 1}: load {_load()}")
    print()
    for mode, t in wall.items():
        print(f"- {mode}: {t:.1f} s ({t / n:.2f} s/variant), CPU {cpu[mode] / n:.2f} s/variant")
    same = _key(rows["loop"]) == _key(rows["1 worker"]) == _key(rows["2 workers"])
    t1, t2 = wall["1 worker"], wall["2 workers"]
    print(f"\nspeed-up 2 workers over 1: {t1 / t2:.2f}x (target >= 1.8x)")
    overhead = (t1 - wall["loop"]) / n
    print(f"overhead per variant, 1 worker vs the loop: {overhead:+.3f} s (target <= 0.3 s)")
    cpu_overhead = (cpu["1 worker"] - cpu["loop"]) / n
    print(f"CPU overhead per variant, 1 worker vs the loop: {cpu_overhead:+.3f} s")
    print(f"rows identical (loop, 1 worker, 2 workers; wall_s left out): {same}")
    failed = sum(r["status"] != "ok" for r in rows["2 workers"])
    print(f"failed variants: {failed}, load {_load()}\n")


def _key(rows: list[dict]) -> list:
    """The rows without wall_s, NaN as None (NaN is not equal to itself)."""

    def same(v: float) -> float | None:
        return None if v != v else v

    return sorted(
        (r["variant"], r["status"], sorted((k, same(v)) for k, v in r["kpis"].items()))
        for r in rows
    )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def per_variant(sample: int, tmp: Path) -> None:
    """Wall time and run-directory size per variant of each shipped sweep (plain loop)."""
    print("| sweep | variants | sampled | wall s per variant (median, min-max) | run dir MB |")
    print("|---|---:|---:|---|---:|")
    for path in sorted(SWEEPS.glob("*.yaml")):
        plan = make_plan(path)
        step = max(1, len(plan.jobs) // sample)
        jobs = _into(plan.jobs[::step][:sample], tmp / path.stem)
        _, rows = loop(jobs, wanted_kpis(plan))
        walls = [r["wall_s"] for r in rows]
        spread = f"{min(walls):.2f}-{max(walls):.2f}"
        size = statistics.median(_size_mb(Path(j.run_dir)) for j in jobs)
        print(
            f"| {path.stem} | {len(plan.jobs)} | {len(jobs)} "
            f"| {statistics.median(walls):.2f} ({spread}) | {size:.2f} |"
        )
    print(f"\nload {_load()}")


def _nothing(i: int) -> int:
    return i


def scheduler_rate(n_tasks: int) -> None:
    """Tasks per second the scheduler turns round when the tasks do nothing (2 workers)."""
    with cluster_client(2, None) as client:
        client.wait_for_workers(2)
        client.gather(client.map(_nothing, range(50)))
        t0 = time.perf_counter()
        client.gather(client.map(_nothing, range(n_tasks), pure=False))
        rate = n_tasks / (time.perf_counter() - t0)
    print(f"\nscheduler: {n_tasks} empty tasks on 2 workers, {rate:.0f} tasks/s, load {_load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=3, help="every n-th variant of the N-1 study")
    parser.add_argument("--chunk", type=int, default=10, help="variants per interleaved round")
    parser.add_argument("--sample", type=int, default=4, help="variants per shipped sweep")
    parser.add_argument("--tasks", type=int, default=2000, help="empty tasks for the scheduler")
    parser.add_argument("--skip-n1", action="store_true", help="only the per-variant times")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_n1:
            n1_study(args.every, args.chunk, Path(tmp))
        if args.sample:
            per_variant(args.sample, Path(tmp))
        scheduler_rate(args.tasks)


if __name__ == "__main__":
    main()
