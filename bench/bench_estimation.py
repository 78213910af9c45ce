"""State estimation: speed next to pandapower's WLS, bad-data rates, a year in the loop.

Usage::

    python bench/bench_estimation.py [--trials 200] [--pp-frames 20] [--year 366d]

1. Speed: MV-rural (``1-MV-rural--0-sw``) with the full measurement set
   (SCADA at the substation, feeder heads and every 4th bus, smart meters at
   every load and generator, no dropouts); median and p95 ms per estimate of
   gridtwin's power-grid-model estimator (bad-data processing included) and of
   pandapower's ``estimate`` (WLS) on the very same frames.
2. Bad data: ``--trials`` seeded trials, each a different SimBench hour and
   noise draw, with one 20-sigma gross error in a random *redundant*
   measurement (residual sensitivity S_ii >= 0.1 and no correlation |rho| >= 0.9
   with another residual, i.e. not critical and not in a critical pair);
   detection = chi-square test fails, identification = the corrupted
   measurement is among those removed (repeated LNR removal until the test
   passes); the share where it was the first one removed is printed too. Then
   the same number of trials without a gross error: false alarms at the 95 % chi-square level.
3. A year (or ``--year``) of MV-rural with sensors and estimation in the loop
   (``scenarios/mv-rural-year.yaml`` + the plan of
   ``scenarios/mv-rural-estimation.yaml`` without its events), next to the
   same year without them.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FULL_PLAN = [
    {"device": "scada", "at": "substation"},
    {"device": "scada", "at": "feeder_heads"},
    {"device": "scada", "at": "every_nth_bus", "n": 4},
    {"device": "smart_meter", "at": "loads"},
    {"device": "smart_meter", "at": "sgens"},
]


def _setup():
    from gridtwin.controllers.estimation.wls import Topology
    from gridtwin.grid.pgm_engine import PgmEngine
    from gridtwin.grid.state import GridState
    from gridtwin.scenario import scenario_from_dict
    from gridtwin.simulators.sensors import resolve_plan
    from gridtwin.world import prepare

    sc = scenario_from_dict(
        {
            "name": "bench-se",
            "time": {"start": "2016-01-01T00:00:00+01:00", "duration": "366d", "step": "1h"},
            "grid": {"simbench": "1-MV-rural--0-sw"},
            "measurements": {"plan": FULL_PLAN, "classes": {"smart_meter": {"interval_s": 0}}},
            "estimation": {},
        }
    )
    prep = prepare(sc)
    net = prep.net
    plan = resolve_plan(net, sc.measurements, seed=0)
    engine = PgmEngine(net)
    state = GridState.from_net(net)

    def truth(hour: int):
        for element, quantity in (("load", "p_mw"), ("load", "q_mvar"), ("sgen", "p_mw")):
            getattr(state, f"{element}_{quantity}")[:] = prep.profiles.at(element, quantity, hour)
        return engine.solve(state)

    return net, plan, truth, Topology.from_net(net)


def bench_speed(n_frames: int, pp_frames: int) -> dict:
    from gridtwin.controllers.estimation.pp_wls import PandapowerEstimator
    from gridtwin.controllers.estimation.wls import WlsEstimator
    from gridtwin.simulators.sensors import SensorModel

    net, plan, truth, topo = _setup()
    model = SensorModel(plan, 3600, seed=1)
    rng = np.random.default_rng(0)
    frames = [
        model.measure(k * 3600, truth(int(h)))
        for k, h in enumerate(rng.integers(0, 8784, n_frames))
    ]
    ours = WlsEstimator(net, plan)
    ours.estimate(frames[0], topo)  # build the model once
    ms = [ours.estimate(f, topo).compute_ms for f in frames]
    ref = PandapowerEstimator(net, plan, max_removals=0)
    ref.estimate(frames[0], topo)  # warm-up
    ms_pp, dv = [], []
    for f in frames[:pp_frames]:
        t0 = time.perf_counter()
        e = ref.estimate(f, topo)
        ms_pp.append((time.perf_counter() - t0) * 1e3)
        dv.append(np.abs(e.bus_vm_pu - ours.estimate(f, topo).bus_vm_pu).max())
    return {
        "n_scalars": plan.n_scalars,
        "p50": float(np.median(ms)),
        "p95": float(np.percentile(ms, 95)),
        "pp_p50": float(np.median(ms_pp)),
        "pp_p95": float(np.percentile(ms_pp, 95)),
        "frames": len(ms),
        "pp_frames": len(ms_pp),
        "max_dvm_pu": float(np.max(dv)),
    }


def bench_bad_data(trials: int) -> dict:
    from gridtwin.controllers.estimation.wls import WlsEstimator
    from gridtwin.simulators.sensors import MeasurementFrame, SensorModel, true_values

    net, plan, truth, topo = _setup()
    est = WlsEstimator(net, plan)
    r0 = truth(12 * 24 * 30)
    sigma_model = SensorModel(plan, 3600, seed=0)
    exact = true_values(plan, r0)
    n = plan.n_scalars
    frame0 = MeasurementFrame(
        0, exact, sigma_model.sigma_of(exact), np.ones(n, bool), np.zeros(n, bool)
    )
    scalars, cov = est.residual_covariance(frame0, topo)
    d = np.diag(cov)
    rho = cov / np.sqrt(np.outer(d, d) + 1e-30)
    np.fill_diagonal(rho, 0.0)
    redundant = scalars[(d >= 0.1) & (np.abs(rho).max(axis=1) < 0.9)]
    rng = np.random.default_rng(2026)
    detected = identified = first = removals = false_alarms = not_estimated = 0
    for trial in range(trials):
        hour = int(rng.integers(0, 8784))
        frame = SensorModel(plan, 3600, seed=trial).measure(0, truth(hour))
        i = int(rng.choice(redundant))
        frame.value[i] += 20.0 * frame.sigma[i]
        e = est.estimate(frame, topo)
        not_estimated += int(e.status != 0)
        detected += int(e.bad_data_detected)
        identified += int(plan.sc_name[i] in e.removed)
        first += int(e.removed[:1] == [plan.sc_name[i]])
        removals += len(e.removed)
    for trial in range(trials):
        hour = int(rng.integers(0, 8784))
        frame = SensorModel(plan, 3600, seed=10_000 + trial).measure(0, truth(hour))
        e = est.estimate(frame, topo)
        not_estimated += int(e.status != 0)
        false_alarms += int(e.bad_data_detected)
    return {
        "trials": trials,
        "redundant": len(redundant),
        "measurements": n,
        "detection": detected / trials,
        "identification": identified / trials,
        "first": first / trials,
        "removals": removals / trials,
        "false_alarms": false_alarms / trials,
        "not_estimated": not_estimated,
    }


def bench_year(until: str) -> dict:
    import yaml

    from gridtwin.scenario import load_scenario, scenario_from_dict
    from gridtwin.timeparse import parse_duration_s
    from gridtwin.world import prepare, run_scenario

    se = yaml.safe_load((REPO / "scenarios" / "mv-rural-estimation.yaml").read_text())
    out = {}
    for label in ("without", "with"):
        sc = load_scenario(REPO / "scenarios" / "mv-rural-year.yaml")
        data = sc.model_dump(mode="json")
        data["time"]["duration"] = until
        if label == "with":
            data["measurements"], data["estimation"] = se["measurements"], se["estimation"]
        sc = scenario_from_dict(data)
        prep = prepare(sc)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            result = run_scenario(sc, out_dir=Path(tmp) / "run", prepared=prep)
            out[label] = time.perf_counter() - t0
            out[f"{label}_store_mb"] = sum(p.stat().st_size for p in Path(tmp).rglob("*")) / 1e6
        if label == "with":
            out["se"] = result.kpis["se"]
        out["steps"] = sc.n_steps
    del parse_duration_s
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--pp-frames", type=int, default=20)
    parser.add_argument("--year", default="366d", help="length of the in-loop run")
    args = parser.parse_args()
    print(
        f"# state-estimation benchmark, {time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, Python {platform.python_version()}\n"
    )
    s = bench_speed(args.frames, args.pp_frames)
    print(f"## speed, MV-rural, full measurement set ({s['n_scalars']} scalar measurements)\n")
    print("| estimator | frames | median [ms] | p95 [ms] |")
    print("| --- | ---: | ---: | ---: |")
    print(
        "| gridtwin (power-grid-model NR + chi-square/LNR) "
        f"| {s['frames']} | {s['p50']:.3f} | {s['p95']:.3f} |"
    )
    print(
        f"| pandapower estimate (WLS) | {s['pp_frames']} | {s['pp_p50']:.1f} | {s['pp_p95']:.1f} |"
    )
    print(
        f"\n- speed-up (median): {s['pp_p50'] / s['p50']:.0f}x; largest |Vm| difference "
        f"between the two on the same frames: {s['max_dvm_pu']:.1e} pu\n"
    )
    b = bench_bad_data(args.trials)
    print(
        f"## bad data, {b['trials']} trials each ({b['redundant']} of {b['measurements']} "
        "measurements redundant enough to identify)\n"
    )
    print("| figure | rate | target |")
    print("| --- | ---: | --- |")
    print(f"| detection (20 sigma) | {b['detection']:.3f} | >= 0.95 |")
    print(f"| identification (20 sigma) | {b['identification']:.3f} | >= 0.90 |")
    print(f"| false alarms (no gross error, 95 % level) | {b['false_alarms']:.3f} | <= 0.06 |")
    print(f"| corrupted measurement removed first | {b['first']:.3f} | |")
    print(
        f"\n- measurements removed per trial (mean): {b['removals']:.2f}; "
        f"estimates that failed: {b['not_estimated']}\n"
    )
    y = bench_year(args.year)
    print(f"## in the loop: {y['steps']} steps of MV-rural\n")
    print("| run | wall [s] | store [MB] |")
    print("| --- | ---: | ---: |")
    print(f"| without sensors and estimation | {y['without']:.1f} | {y['without_store_mb']:.0f} |")
    print(f"| with sensors and estimation | {y['with']:.1f} | {y['with_store_mb']:.0f} |")
    se = y["se"]
    print(
        f"\n- se: {se['steps_estimated']} estimated, {se['steps_not_estimated']} not; "
        f"vm MAE {se['vm_mae_pu']:.2e} pu, max {se['vm_max_abs_err_pu']:.2e} pu; "
        f"estimate p50 {se['ms_per_estimate_p50']:.2f} ms, p95 {se['ms_per_estimate_p95']:.2f} ms; "
        f"false alarms {se['false_alarms']}"
    )


if __name__ == "__main__":
    main()
