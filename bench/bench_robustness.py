"""Robustness figures (issue 17): malformed inputs, huge runs, bad data at low redundancy,
an InfluxDB freeze.

Usage::

    python bench/bench_robustness.py [--trials 200] [--freeze-s 20] [--skip-freeze]

1. The malformed-input sweep of ``tests/test_malformed_sweep.py``: every case through
   ``gridtwin validate`` in-process (Typer's CliRunner, as the test does); cases, seconds,
   how many ended in exit status 2 with one line naming the file and the field.
2. Huge scenarios (case33bw) through the real command line (``python -m gridtwin``,
   a subprocess each): 27,000 years at 15 min (the 2262 limit), ten years at 1 s (the step
   limit), 10,000 days at 15 min on SimBench MV urban (the store-size limit); seconds to
   exit status 2 for ``validate`` and ``run`` (interpreter start included).
3. Bad data at low redundancy: SimBench ``1-LV-rural1--0-sw``, 70 % smart meters,
   pseudo-measurements for the rest, one gross meter error per trial (as the test in
   ``tests/test_honest_figures.py``): detected, flagged not identifiable, correct
   identifications, good measurements removed.
4. InfluxDB frozen (SIGSTOP on ``influxd``) for ``--freeze-s`` while the background writer
   sends, with the scenario's default HTTP time-out (30 s): outage reported vs the freeze.

Prints markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.conftest import base_scenario  # noqa: E402


def malformed_sweep(tmp: Path) -> dict:
    """Every case of the malformed-input sweep through ``validate`` in-process."""
    import typer.main
    import typer.testing
    from typer.testing import CliRunner

    from gridtwin.cli import app
    from tests.test_malformed_sweep import CASES

    command = typer.main.get_command(app)  # built once, as the test does
    typer.testing._get_command = lambda _app: command  # type: ignore[attr-defined]
    runner = CliRunner()
    ok = 0
    t0 = time.perf_counter()
    for i, case in enumerate(CASES):
        folder = tmp / f"c{i}"
        folder.mkdir()
        for name, text in case.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["validate", str(folder / "s.yaml"), *case.args])
        stderr = result.stderr.strip()
        ok += (
            result.exit_code == 2
            and len(stderr.splitlines()) == 1
            and stderr.startswith(f"error: {folder / case.bad_file}: ")
            and case.field in stderr
        )
    return {"cases": len(CASES), "refused_as_expected": ok, "s": time.perf_counter() - t0}


HUGE = {
    "27,000 years at 15 min": ({"duration": "9855000d"}, {"pandapower": "case33bw"}),
    "10 years at 1 s": ({"duration": "3650d", "step": "1s"}, {"pandapower": "case33bw"}),
    "10,000 days at 15 min, MV urban": (
        {"duration": "10000d"},
        {"simbench": "1-MV-urban--0-sw"},
    ),
}


def huge_scenarios(tmp: Path) -> list[dict]:
    """Seconds to exit status 2 for validate and run (a subprocess each)."""
    rows = []
    for label, (time_over, grid) in HUGE.items():
        data = base_scenario(grid=grid)
        data["time"].update(time_over)
        path = tmp / f"huge{len(rows)}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        row = {"case": label}
        for command in ("validate", "run"):
            args = [sys.executable, "-m", "gridtwin", command, str(path)]
            if command == "run":
                args += ["--out", str(tmp / f"r{len(rows)}")]
            t0 = time.perf_counter()
            proc = subprocess.run(args, capture_output=True, text=True, check=False)
            row[f"{command}_s"] = time.perf_counter() - t0
            row[f"{command}_rc"] = proc.returncode
            row["message"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        rows.append(row)
    return rows


LV_PLAN = [
    {"device": "scada", "at": "substation"},
    {"device": "smart_meter", "at": "loads", "share": 0.7},
    {"device": "pseudo", "at": "rest"},
]


def lv_bad_data(trials: int) -> dict:
    """One gross smart-meter error per trial on an LV grid at low redundancy."""
    from gridtwin.controllers.estimation.wls import Topology, WlsEstimator
    from gridtwin.simulators.sensors import SensorModel
    from tests.test_estimation import _setup

    net, truth, plan = _setup({"simbench": "1-LV-rural1--0-sw"}, LV_PLAN)
    est, topo = WlsEstimator(net, plan), Topology.from_net(net)
    model = SensorModel(plan, 900, seed=7)
    rng = np.random.default_rng(7)
    meters = [i for i, n in enumerate(plan.sc_name) if n.startswith("smart_meter:")]
    counts = {"trials": trials, "detected": 0, "flagged": 0, "right": 0, "wrong": 0}
    for k in range(trials):
        frame = model.measure(k * 900, truth)
        i = int(rng.choice(meters))
        frame.value[i] += 30 * frame.sigma[i] + (0.05 if ":vm_pu" in plan.sc_name[i] else 0.01)
        result = est.estimate(frame, topo)
        counts["detected"] += bool(result.bad_data_detected)
        counts["flagged"] += bool(result.bad_data_not_identifiable)
        counts["right"] += plan.sc_name[i] in result.removed
        counts["wrong"] += sum(name != plan.sc_name[i] for name in result.removed)
    counts["meters"] = len(meters)
    return counts


def influx_freeze(tmp: Path, freeze_s: float) -> dict:
    """influxd stopped for ``freeze_s`` while five batches are sent; default time-out."""
    from gridtwin.recording.influx_client import connect
    from gridtwin.recording.influx_run import target_from_spec
    from gridtwin.recording.influx_schema import Batch
    from gridtwin.recording.influx_writer import InfluxWriter
    from gridtwin.scenario.recording import InfluxSpec
    from tests.influx_server import InfluxServer

    server = InfluxServer(tmp / "influxd")
    server.start()
    try:
        spec = InfluxSpec(url=server.url, database="freeze")
        writer = InfluxWriter(connect(target_from_spec(spec, "bench")), tmp / "spill.lp")
        stopped_at = time.monotonic()
        os.kill(server.proc.pid, signal.SIGSTOP)
        frozen = {}

        def thaw() -> None:
            os.kill(server.proc.pid, signal.SIGCONT)
            frozen["s"] = time.monotonic() - stopped_at

        timer = threading.Timer(freeze_s, thaw)
        timer.start()
        for i in range(5):
            writer.put(Batch(f"m,k=x v={i}i {i + 1}\n".encode(), "s", {"m": 1}))
        stats = writer.close(drain_timeout_s=freeze_s + 60)
        timer.join()
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
        server.stop()
    return {
        "timeout_s": spec.timeout_s,
        "frozen_s": frozen["s"],
        "outage_s": stats.outage_s,
        "points": stats.points,
        "unsent": stats.unsent_points,
        "retries": stats.retries,
        "slow_answers": stats.slow_answers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--freeze-s", type=float, default=20.0)
    parser.add_argument("--skip-freeze", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}"
    )
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        (tmp / "sweep").mkdir()
        sweep = malformed_sweep(tmp / "sweep")
        print(
            f"\nmalformed sweep: {sweep['cases']} cases, {sweep['refused_as_expected']} refused "
            f"with exit 2 and one line naming file and field, {sweep['s']:.1f} s"
        )
        print("\n| huge scenario | validate | run | message |\n|---|---|---|---|")
        for row in huge_scenarios(tmp):
            print(
                f"| {row['case']} | {row['validate_s']:.2f} s (exit {row['validate_rc']}) | "
                f"{row['run_s']:.2f} s (exit {row['run_rc']}) | {row['message'][:160]} |"
            )
        lv = lv_bad_data(args.trials)
        print(
            f"\nLV bad data ({lv['meters']} meter scalars): {lv['trials']} trials, detected "
            f"{lv['detected']}, flagged not identifiable {lv['flagged']}, correct "
            f"identifications {lv['right']}, good measurements removed {lv['wrong']}"
        )
        if not args.skip_freeze:
            fr = influx_freeze(tmp, args.freeze_s)
            print(
                f"\nInfluxDB freeze at timeout_s {fr['timeout_s']:g}: frozen "
                f"{fr['frozen_s']:.2f} s, outage reported {fr['outage_s']:.2f} s; "
                f"{fr['points']} points written, "
                f"{fr['unsent']} unsent, {fr['retries']} retries, {fr['slow_answers']} slow answers"
            )
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
