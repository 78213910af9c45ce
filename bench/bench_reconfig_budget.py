"""Determinism of the reconfiguration search under machine load; prints a markdown table.

Each grid is optimized twice with the library defaults (evaluation budget
``DEFAULT_MAX_EVALUATIONS``, no wall-clock cap, losses objective, seed 0):
once as it is, once with a busy process beside it. The table gives the
status, the power flows, the losses, both wall times and whether the two
plans are identical.

Run: ``python bench/bench_reconfig_budget.py``
"""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np


def _grids() -> dict[str, tuple[Callable[[], Any], bool]]:
    import pandapower.networks as pn
    import simbench

    def sb(code: str) -> Callable[[], Any]:
        return lambda: simbench.get_simbench_net(code)

    return {
        "case33bw, all lines switchable": (pn.case33bw, True),
        "1-MV-rural--0-sw": (sb("1-MV-rural--0-sw"), False),
        "1-MV-comm--0-sw": (sb("1-MV-comm--0-sw"), False),
        "1-MV-semiurb--0-sw": (sb("1-MV-semiurb--0-sw"), False),
        "1-MV-urban--0-sw": (sb("1-MV-urban--0-sw"), False),
    }


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def main() -> None:
    from gridtwin.controllers.reconfig import (
        DEFAULT_MAX_EVALUATIONS,
        Problem,
        Weights,
        optimize,
    )

    warnings.simplefilter("ignore")
    losses = Weights.for_objective("losses")
    print(f"### Default budget ({DEFAULT_MAX_EVALUATIONS} evaluations, no clock cap), seed 0\n")
    print(
        "| grid | status | power flows | after [kW] | time quiet [s] | time beside a busy "
        "process [s] | same plan |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for name, (make, all_lines) in _grids().items():
        problem = Problem.from_net(make(), all_lines_switchable=all_lines)
        run = partial(optimize, problem, weights=losses, seed=0)
        quiet, t_quiet = _timed(run)
        busy = subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"])
        try:
            loaded, t_loaded = _timed(run)
        finally:
            busy.kill()
            busy.wait()
        same = (
            np.array_equal(quiet.plan, loaded.plan)
            and quiet.objective == loaded.objective
            and quiet.power_flows == loaded.power_flows
        )
        print(
            f"| {name} | {quiet.status} | {quiet.power_flows} "
            f"| {quiet.assessment.losses_mwh * 1e3:.2f} | {t_quiet:.2f} | {t_loaded:.2f} "
            f"| {'yes' if same else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
