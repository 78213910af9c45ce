"""Forecasting: skill against seasonal naive at feeder level, and the cost in a long run.

Usage::

    python bench/bench_forecast.py [--skip-run] [--days 281]

1. Skill: the forecaster of ``scenarios/mv-rural-forecast.yaml`` (MV-rural,
   eight weeks from 2016-04-04 after an eight-week training window; learned
   model; per feeder) stepped over the eight weeks on the same actuals the
   run sees (the SimBench profiles), without mosaik. For every issue target
   of the issue: MAE skill ``1 - MAE / MAE of seasonal naive`` of the learned
   model and of persistence (last value), on the same targets, issues and
   leads; PV is scored in daylight (clear sky above zero or PV producing).
   Intraday lead windows: load up to 4 h (and 1-4 h), PV up to 1 h (and
   exactly 1 h). PICP of the 10-90 % band per cadence.
2. Cost: MV-rural with and without the forecaster (the scenario's forecasting
   section, weekly and four-weekly retraining) over the longest period the
   SimBench year allows after 85 days of history (``--days``, default 281 d
   from 2016-03-26), every table recorded as ``mv-rural-year``; the added
   wall time, and that time scaled to 366 days.

Prints markdown.
"""

from __future__ import annotations

import argparse
import copy
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]

TARGETS = [  # (cadence, group, label, lead window [steps] or None for all, target)
    ("day_ahead", "load", "load day-ahead", None, 0.10),
    ("intraday", "load", "load intraday, leads up to 4 h", (1, 16), 0.15),
    ("intraday", "load", "load intraday, leads 1-4 h", (4, 16), 0.15),
    ("day_ahead", "pv", "PV day-ahead", None, 0.15),
    ("intraday", "pv", "PV intraday, leads up to 1 h", (1, 4), 0.60),
    ("intraday", "pv", "PV intraday, lead exactly 1 h", (4, 4), 0.60),
]


def skill_table() -> None:
    from gridtwin.controllers.forecasting.features import GROUPS
    from gridtwin.scenario import load_scenario
    from gridtwin.world import prepare

    sc = load_scenario(REPO / "scenarios" / "mv-rural-forecast.yaml")
    t0 = time.perf_counter()
    prep = prepare(sc)
    f = prep.forecaster
    t_build = time.perf_counter() - t0
    prof = prep.profiles
    actual = f.targets.aggregate(prof.series[("load", "p_mw")], prof.series[("sgen", "p_mw")])
    sums: dict = {}
    band = {"intraday": [0, 0], "day_ahead": [0, 0]}
    t0 = time.perf_counter()
    for k in range(sc.n_steps):
        out = f.step(k, actual[k])
        completed = out.completed + (f.finish() if k == sc.n_steps - 1 else [])
        for c in completed:
            issue = c.issue
            for gname in ("load", "pv"):
                cols = np.flatnonzero(f.targets.group == GROUPS.index(gname))
                day = c.daylight if gname == "pv" else np.ones(len(issue.leads), bool)
                for cadence, group, label, window, _ in TARGETS:
                    if cadence != issue.cadence or group != gname:
                        continue
                    rows = day.copy()
                    if window is not None:
                        rows &= (issue.leads >= window[0]) & (issue.leads <= window[1])
                    a = c.actual[rows][:, cols]
                    s = sums.setdefault(label, np.zeros(4))
                    s += [
                        np.abs(a - issue.q[1][rows][:, cols]).sum(),
                        np.abs(a - issue.persistence[rows][:, cols]).sum(),
                        np.abs(a - issue.seasonal_naive[rows][:, cols]).sum(),
                        a.size,
                    ]
                a = c.actual[day][:, cols]
                q = issue.q[:, day][:, :, cols]
                band[issue.cadence][0] += int(((q[0] <= a) & (a <= q[-1])).sum())
                band[issue.cadence][1] += a.size
    t_steps = time.perf_counter() - t0
    n_feeders = len({n.split(":", 1)[1] for n in f.targets.names})
    print(
        f"## Forecast skill against seasonal naive, MV-rural, 8 weeks from 2016-04-04, "
        f"{n_feeders} aggregates per group (feeders + substation)\n"
    )
    print(
        "| target | learned (quantile GBM) | persistence | seasonal naive | MAE learned [MW] "
        "| target skill | met |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for _, _, label, _, goal in TARGETS:
        m, p, sn, n = sums[label]
        sk = 1 - m / sn
        print(
            f"| {label} | {sk:.3f} | {1 - p / sn:.3f} | 0 (MAE {sn / n:.4f} MW) | {m / n:.4f} "
            f"| >= {goal:.2f} | {'yes' if sk >= goal else 'no'} |"
        )
    for cadence, (cov, n) in band.items():
        picp = cov / n
        ok = "yes" if 0.75 <= picp <= 0.85 else "no"
        print(
            f"| PICP 10-90 %, {cadence} (load + daylight PV) | {picp:.3f} | | | "
            f"| 0.75-0.85 | {ok} |"
        )
    print(
        f"\nForecaster build (history, clear sky, first training) {t_build:.1f} s; "
        f"{sc.n_steps} steps {t_steps:.1f} s, of which training {f.train_s_total - 0:.1f} s "
        "in total.\n"
    )


def cost_table(days: int) -> None:
    from gridtwin.scenario import scenario_from_dict
    from gridtwin.world import run_scenario

    year = yaml.safe_load((REPO / "scenarios" / "mv-rural-year.yaml").read_text())
    fc = yaml.safe_load((REPO / "scenarios" / "mv-rural-forecast.yaml").read_text())["forecasting"]
    base = copy.deepcopy(year)
    base["time"] = {"start": "2016-03-26T00:00:00+01:00", "duration": f"{days}d", "step": "15min"}
    variants = [("without forecasting", None), ("forecasting, retrain 7d", "7d")]
    variants.append(("forecasting, retrain 28d", "28d"))
    rows = []
    for label, retrain in variants:
        data = copy.deepcopy(base)
        if retrain is not None:
            data["forecasting"] = dict(fc, retrain_every=retrain)
        sc = scenario_from_dict(data, source="bench")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = run_scenario(sc, out_dir=Path(tmp) / "run")
            wall = time.perf_counter() - t0
        train = result.kpis.get("forecast", {}).get("train_s", 0.0)
        rows.append((label, wall, train))
    print(f"## Cost: MV-rural, {days} days from 2016-03-26 (every table recorded)\n")
    print("| run | wall [s] | of which training [s] | added [s] | added, scaled to 366 d [s] |")
    print("| --- | --- | --- | --- | --- |")
    w0 = rows[0][1]
    for label, wall, train in rows:
        added = wall - w0
        print(f"| {label} | {wall:.1f} | {train:.1f} | {added:.1f} | {added * 366 / days:.1f} |")
    print("\nTarget: forecasting adds <= 15 s to a year run of MV-rural.\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-run", action="store_true", help="only the skill table")
    ap.add_argument("--days", type=int, default=281, help="length of the cost runs [d]")
    args = ap.parse_args()
    print(
        f"Machine: {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}\n"
    )
    skill_table()
    if not args.skip_run:
        cost_table(args.days)


if __name__ == "__main__":
    main()
