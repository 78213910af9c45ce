"""Real-time lateness: MV-rural with sensors and estimation, paced to the wall clock.

Usage::

    python bench/bench_realtime.py [--minutes 10] [--cases 1s,100ms] [--keep DIR]

Runs ``scenarios/mv-rural-realtime.yaml`` (SimBench 1-MV-rural--0-sw, the
measurement plan of ``mv-rural-estimation.yaml``, state estimation every step)
for ``--minutes`` of wall time per case:

- ``1s``: 1 s steps at ``realtime.factor`` 1.0 (a step every 1000 ms of wall time);
- ``100ms``: 1 s steps at factor 0.1 (a step every 100 ms of wall time; gridtwin's
  steps are whole simulated seconds, so 100 ms steps in wall time are 1 s steps
  ten times faster than real time).

Prints per case: steps, lateness p50/p99/max [ms] (start of a step's first
simulator minus its scheduled wall time), overruns (steps later than one
step), the mean and p99 compute time per simulator [ms] from the ``timing``
table, and the load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "mv-rural-realtime.yaml"
CASES = {"1s": 1.0, "100ms": 0.1}  # case -> realtime.factor at 1 s steps


def run_case(name: str, minutes: float, out: Path) -> dict[str, Any]:
    """Run one case for ``minutes`` of wall time; its KPIs and per-simulator compute."""
    import pandas as pd

    from gridtwin.scenario import RealTimeSpec, load_scenario
    from gridtwin.world import run_scenario

    factor = CASES[name]
    sc = load_scenario(SCENARIO)
    steps = round(minutes * 60 / factor)
    sc.time.duration = steps * sc.time.step
    sc.realtime = RealTimeSpec(factor=factor, on_overrun="warn")
    sc.time.real_time_factor = factor
    sc.name = f"{sc.name}-{name}"
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    result = run_scenario(sc, out_dir=out / name)
    wall_s = time.perf_counter() - t0
    timing = pd.read_parquet(out / name / "timing.parquet")
    compute = timing.groupby("element", observed=True)["compute_ms"].agg(
        mean="mean", p99=lambda s: float(np.nanpercentile(s, 99))
    )
    return {
        "kpis": result.kpis["realtime"],
        "wall_s": wall_s,
        "compute": compute,
        "load": (load_before, os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="wall time per case [min]")
    parser.add_argument("--cases", default="1s,100ms", help="comma-separated: 1s, 100ms")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directories here")
    args = parser.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench-realtime-"))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    for name in args.cases.split(","):
        r = run_case(name, args.minutes, out)
        k = r["kpis"]
        (l1, _, _), (l2, l5, _) = r["load"]
        print(
            f"\n{name} steps ({k['step_ms']:.0f} ms wall per step), {k['steps']} steps in "
            f"{r['wall_s']:.1f} s; load average before {l1:.2f}, after (1/5 min) {l2:.2f}/{l5:.2f}"
        )
        print(
            f"  lateness p50 {k['lateness_ms_p50']:.2f} ms, p99 {k['lateness_ms_p99']:.2f} ms, "
            f"max {k['lateness_ms_max']:.2f} ms; overruns {k['overruns']}"
        )
        for element, row in r["compute"].iterrows():
            print(f"  compute {element:<12} mean {row['mean']:7.2f} ms  p99 {row['p99']:7.2f} ms")
    print(f"\nrun directories: {out}")


if __name__ == "__main__":
    main()
