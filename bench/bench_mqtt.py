"""MQTT process bus: round trip against the plain paho floor, and throughput at 100 ms steps.

Starts Debian's mosquitto on a free loopback port, then

1. the floor: a plain paho publish -> echo process (subscribe, publish back)
   -> subscriber round trip on the same broker, ``--n`` times;
2. gridtwin: ``scenarios/mv-rural-mqtt-voltage.yaml`` at 1 s steps with
   ``realtime.factor 0.1`` (100 ms of wall time per step) for ``--steps``
   steps, with ``examples/mqtt_voltage_controller.py`` answering every frame.
   A listener records each frame's wall-clock time stamp; kpis.json gives
   the command ages (``bus.command_reply_ms_*``: frame published -> answer at
   the bridge; ``bus.command_roundtrip_ms_*``: -> handed to the grid at the
   next step).

Run: ``python bench/bench_mqtt.py [--steps 300] [--n 1000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import yaml

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
from tests.mqtt_broker import Broker  # noqa: E402

ECHO = """
import sys, paho.mqtt.client as mqtt
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
c.on_connect = lambda c, *a: (c.subscribe("bench/ping"), print("ready", flush=True))
c.on_message = lambda c, u, m: c.publish("bench/pong", m.payload)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_forever()
"""


def floor_ms(port: int, n: int) -> np.ndarray:
    """Round trips [ms] of a plain paho publish -> echo process -> subscriber."""
    echo = subprocess.Popen(
        [sys.executable, "-c", ECHO, str(port)], stdout=subprocess.PIPE, text=True
    )
    assert echo.stdout is not None and "ready" in echo.stdout.readline()
    got = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: got.set()
    client.connect("127.0.0.1", port)
    client.subscribe("bench/pong")
    client.loop_start()
    time.sleep(0.3)
    out = []
    payload = b"x" * 200
    for _ in range(n):
        got.clear()
        t0 = time.perf_counter()
        client.publish("bench/ping", payload)
        if got.wait(2):
            out.append((time.perf_counter() - t0) * 1e3)
    client.loop_stop()
    client.disconnect()
    echo.terminate()
    echo.wait(5)
    return np.asarray(out)


def gridtwin_run(broker: Broker, folder: Path, steps: int) -> tuple[dict, list[float]]:
    """One real-time run with the example controller; (kpis, frame time stamps)."""
    data = yaml.safe_load((ROOT / "scenarios/mv-rural-mqtt-voltage.yaml").read_text())
    data["time"]["duration"] = f"{steps}s"
    data["realtime"] = {"factor": 0.1}
    data["mqtt"]["topic_prefix"] = "bench/run"
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    stamps: list[float] = []
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    def frame(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        sec, nsec = json.loads(m.payload)[0]["ts"]["origin"]
        stamps.append(sec + nsec * 1e-9)

    listener.on_message = frame
    listener.connect("127.0.0.1", broker.port)
    listener.subscribe("bench/run/measurements")
    listener.loop_start()
    ctl = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "examples/mqtt_voltage_controller.py"),
            "--url",
            broker.url,
            "--prefix",
            "bench/run",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert ctl.stdout is not None and "connected" in ctl.stdout.readline()
    cmd = [sys.executable, "-m", "gridtwin", "run", str(path), "--out", str(folder / "run")]
    subprocess.run([*cmd, "-q", "--no-report", "--mqtt", broker.url], check=True, cwd=ROOT)
    ctl.terminate()
    ctl.wait(10)
    listener.loop_stop()
    listener.disconnect()
    return json.loads((folder / "run" / "kpis.json").read_text()), stamps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "broker").mkdir()
        broker = Broker(folder / "broker")
        broker.start()
        try:
            floor = floor_ms(broker.port, args.n)
            kpis, stamps = gridtwin_run(broker, folder, args.steps)
        finally:
            broker.stop()
    bus = kpis["bus"]
    ts = np.asarray(stamps)
    lag_s = (ts - ts[0]) - np.arange(len(ts)) * 0.1  # behind the 100 ms schedule
    wall_s = ts[-1] - ts[0]
    print(f"load average: {os.getloadavg()}")
    print(
        f"floor (plain paho round trip, n={len(floor)}): "
        f"p50 {np.percentile(floor, 50):.2f} ms, p99 {np.percentile(floor, 99):.2f} ms"
    )
    print(
        f"gridtwin frames published: {len(ts)} of {args.steps} steps in {wall_s:.2f} s "
        f"({(len(ts) - 1) / wall_s:.2f} frames/s, "
        f"{bus['published_values'] / max(wall_s, 1e-9):.0f} values/s, "
        f"{bus['published_values'] / max(len(ts), 1):.0f} values per frame)"
    )
    print(
        f"frames later than one step behind schedule (overruns): {(lag_s > 0.1).sum()}, "
        f"max lag {lag_s.max() * 1e3:.1f} ms"
    )
    for key in ("command_reply_ms", "command_roundtrip_ms"):
        print(
            f"{key}: p50 {bus.get(key + '_p50', float('nan')):.2f} ms, "
            f"p99 {bus.get(key + '_p99', float('nan')):.2f} ms"
        )
    print(
        f"accepted {bus['accepted']}, rejected {bus['rejected']}, dropped {bus['dropped']}, "
        f"voltage violation bus-steps {kpis['voltage']['violation_bus_steps']}"
    )


if __name__ == "__main__":
    main()
