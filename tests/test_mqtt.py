"""The MQTT process bus against a real broker (Debian mosquitto) and real processes.

::

    mosquitto (fixture, free loopback port)
      ▲   │
      │   ▼
    gridtwin run ... --mqtt URL  (subprocess)  ◄──►  test client / examples/mqtt_voltage_controller.py

Each run is MV-rural at 1 s steps in real time at a fast factor (0.05: 20
steps per second of wall time), so a test takes a few seconds.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pandas as pd
import pytest
import yaml

from gridtwin.bus.payloads import Reading, sogno_decode, sogno_encode, villas_decode, villas_encode
from tests.mqtt_broker import MOSQUITTO, Broker

ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "scenarios/mv-rural-mqtt-voltage.yaml"
FACTOR = 0.05

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto not installed")


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    folder = tmp_path / "broker"
    folder.mkdir()
    b = Broker(folder)
    b.start()
    yield b
    b.stop()


def scenario(tmp_path: Path, steps: int, mqtt_opts: dict[str, Any], factor: float = FACTOR) -> Path:
    """The shipped scenario, ``steps`` seconds long at real-time ``factor``."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["time"]["duration"] = f"{steps}s"
    data["realtime"] = {"factor": factor}
    data["mqtt"].update(mqtt_opts)
    path = tmp_path / f"scenario-{secrets.token_hex(3)}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def start_run(path: Path, out: Path, url: str, env: dict[str, str] | None = None) -> Any:
    cmd = [sys.executable, "-m", "gridtwin", "run", str(path), "--out", str(out), "-q"]
    cmd += ["--no-report", "--mqtt", url]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        cwd=path.parent,
    )


def finish(proc: Any, timeout: float = 90) -> tuple[str, str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()
    return out.decode(), err.decode()


class Listener:
    """A paho client that keeps every message under ``prefix``."""

    def __init__(self, url_port: int, prefix: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.lock = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *a: c.subscribe(f"{prefix}/#", qos=1)
        self.client.connect("127.0.0.1", url_port)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload)))
            self.lock.notify_all()

    def wait_for(self, topic: str, timeout: float = 60) -> bytes:
        """The first non-empty message on ``topic``."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for t, p in self.messages:
                    if t == topic and p:
                        return p
                left = deadline - time.monotonic()
                assert left > 0, f"nothing on {topic}"
                self.lock.wait(left)

    def on(self, topic: str) -> list[bytes]:
        with self.lock:
            return [p for t, p in self.messages if t == topic and p]

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def kpis(run: Path) -> dict[str, Any]:
    return json.loads((run / "kpis.json").read_text())


# -- payloads ------------------------------------------------------------------


def test_payloads_round_trip_exactly() -> None:
    values = [1.0213456789012345, float("nan"), -0.35, 0.0]
    (sample,) = villas_decode(villas_encode(1466503200.25, 7, values))
    assert sample.ts_s == 1466503200.25 and sample.sequence == 7
    assert sample.data[0] == values[0] and sample.data[1] is None and sample.data[2:] == values[2:]
    readings = [Reading("Bus 5", "voltmagnitude", "A", 1.0213456789012345)]
    message = sogno_decode(sogno_encode("scada", 1466503200.5, readings))
    assert message.device == "scada" and message.ts_s == 1466503200.5
    assert message.readings == readings


# -- a run against the broker -----------------------------------------------------


def _iso(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, tz=UTC).isoformat()


def _bad_commands(prefix: str, ts_s: float, sgen: str) -> list[tuple[str, bytes]]:
    topic = f"{prefix}/commands/sgen_q_set_mvar"

    def sogno(data: Any, component: str = sgen, stamp: float = ts_s) -> bytes:
        reading = {"component": component, "measurand": "reactivepower", "phase": "A"}
        doc = {"device": "test", "timestamp": _iso(stamp), "readings": [reading | {"data": data}]}
        return json.dumps(doc).encode()

    return [
        (topic, b"{not json"),  # unparsable
        (topic, b'{"device": "x", "readings": []}'),  # unparsable: no timestamp
        (f"{prefix}/commands/sgen_q_set_kvar", sogno(-0.01)),  # unknown_topic
        (topic, sogno(-0.01, component="no such sgen")),  # unknown_element
        (topic, sogno(-0.01).replace(b"-0.01", b"NaN")),  # non_finite
        (topic, sogno(1e6)),  # out_of_range
        (topic, sogno(-0.01, stamp=ts_s - 3600)),  # late
    ]


def test_bad_commands_are_rejected_counted_and_recorded(tmp_path: Path, broker: Broker) -> None:
    prefix = "test/rejects"
    opts: dict[str, Any] = {"topic_prefix": prefix, "max_lateness_s": 10.0}
    opts["formats"] = {"commands": "sogno", "status": "sogno"}
    opts["publish"] = {"status": True}
    path = scenario(tmp_path, 40, opts)
    listener = Listener(broker.port, prefix)
    proc = start_run(path, tmp_path / "run", broker.url)
    try:
        signals = json.loads(listener.wait_for(f"{prefix}/commands/sgen_q_set_mvar/signals"))
        (sample,) = villas_decode(listener.wait_for(f"{prefix}/measurements"))
        sgen = signals[0]["name"]
        valid = sogno_encode("test", sample.ts_s, [Reading(sgen, "reactivepower", "A", -0.01)])
        for topic, payload in [
            *_bad_commands(prefix, sample.ts_s, sgen),
            (f"{prefix}/commands/sgen_q_set_mvar", valid),
        ]:
            listener.publish(topic, payload)
        finish(proc)
    finally:
        listener.close()
    run = tmp_path / "run"
    bus = kpis(run)["bus"]
    assert kpis(run)["run"]["completed"]
    expected = {"unparsable": 2, "unknown_topic": 1, "unknown_element": 1, "non_finite": 1}
    expected |= {"out_of_range": 1, "late": 1, "overflow": 0}
    assert {r: bus[f"rejected_{r}"] for r in expected} == expected
    assert bus["accepted"] == 1 and bus["rejected"] == 7
    rejects = pd.read_parquet(run / "command_rejected.parquet")
    assert set(rejects["source"]) == {"mqtt"} and rejects["received"].notna().all()
    assert sorted(rejects["reason"]) == sorted(r for r, n in expected.items() for _ in range(n))
    assert set(rejects["topic"]) == {
        f"{prefix}/commands/sgen_q_set_mvar",
        f"{prefix}/commands/sgen_q_set_kvar",
    }
    log = (run / "run.log").read_text()
    for reason in expected:  # logged once per reason, with the topic
        assert log.count(f"rejected a command ({reason}) on {prefix}/") == (reason != "overflow")
    commands = pd.read_parquet(run / "command.parquet")
    mine = commands[commands["source"] == "mqtt"]
    assert len(mine) == 1 and mine["status"].iloc[0] == "applied"
    assert mine["arrival_s"].iloc[0] == mine["issued_s"].iloc[0] + 1  # one step later
    sgens = pd.read_parquet(run / "sgen.parquet")
    at = sgens[(sgens["sim_time_s"] == mine["arrival_s"].iloc[0]) & (sgens["element"] == sgen)]
    assert at["q_mvar"].iloc[0] == pytest.approx(-0.01)
    # SOGNO status: every switch and transformer, positions as SCADA reports them
    status = [sogno_decode(p) for p in listener.on(f"{prefix}/status")]
    assert status and all(m.device == "scada" for m in status)
    switches = [r for r in status[-1].readings if r.measurand == "switchclosed"]
    assert switches and all(r.data in (0.0, 1.0) for r in switches)


def test_villas_measurements_round_trip_and_villas_commands(tmp_path: Path, broker: Broker) -> None:
    prefix = "test/villas"
    path = scenario(tmp_path, 30, {"topic_prefix": prefix, "max_lateness_s": 10.0})
    listener = Listener(broker.port, prefix)
    proc = start_run(path, tmp_path / "run", broker.url)
    try:
        signals = json.loads(listener.wait_for(f"{prefix}/commands/sgen_p_limit_mw/signals"))
        (sample,) = villas_decode(listener.wait_for(f"{prefix}/measurements"))
        data: list[float | None] = [None] * len(signals)
        data[1] = 0.5 * signals[1]["max"]
        topic = f"{prefix}/commands/sgen_p_limit_mw"
        listener.publish(
            topic, villas_encode(sample.ts_s, 0, [math.nan if v is None else v for v in data])
        )
        listener.publish(topic, villas_encode(sample.ts_s, 1, [0.0]))  # wrong length: unparsable
        finish(proc)
    finally:
        listener.close()
    run = tmp_path / "run"
    names = [s["name"] for s in json.loads(listener.wait_for(f"{prefix}/measurements/signals"))]
    frame = pd.read_parquet(run / "measurement.parquet")
    assert len(names) == frame["element"].nunique() > 400
    published = [villas_decode(p)[0] for p in listener.on(f"{prefix}/measurements")]
    assert len(published) == 30 == kpis(run)["bus"]["published"]
    for s in published:  # every value exactly as recorded, null where not valid
        step = frame[frame["sim_time_s"] == s.sequence].set_index("element").loc[names]
        got = [math.nan if v is None else v for v in s.data]
        expect = step["value"].where(step["valid"], math.nan).tolist()
        assert got == pytest.approx(expect, nan_ok=True, rel=0, abs=0)
    bus = kpis(run)["bus"]
    assert bus["accepted"] == 1 and bus["rejected_unparsable"] == 1
    commands = pd.read_parquet(run / "command.parquet")
    assert (commands["source"] == "mqtt").sum() == 1


def test_broker_restart_mid_run(tmp_path: Path, broker: Broker) -> None:
    prefix = "test/restart"
    opts = {"topic_prefix": prefix, "reconnect_min_s": 0.05, "reconnect_max_s": 0.2}
    steps = 100
    path = scenario(tmp_path, steps, opts)
    listener = Listener(broker.port, prefix)
    proc = start_run(path, tmp_path / "run", broker.url)
    listener.wait_for(f"{prefix}/measurements")
    listener.close()
    broker.stop()  # killed mid-run
    time.sleep(1.0)
    broker.start()  # back on the same port
    finish(proc)
    k = kpis(tmp_path / "run")
    assert k["run"]["completed"] and k["run"]["steps"] == steps
    bus = k["bus"]
    assert bus["reconnects"] >= 1 and bus["disconnects"] >= 1
    assert bus["dropped"] >= 1 and bus["published"] >= 1
    assert bus["published"] + bus["dropped"] == steps  # every frame: published or dropped
    log = (tmp_path / "run" / "run.log").read_text()
    assert "lost the broker" in log and "reconnected" in log


def test_credentials_never_written_or_printed(tmp_path: Path) -> None:
    user, password = "gt-" + secrets.token_hex(4), "pw-" + secrets.token_hex(8)
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = Broker(folder, users={user: password})
    broker.start()
    try:
        path = scenario(tmp_path, 20, {"topic_prefix": "test/secret"})
        env = {"GRIDTWIN_MQTT_USERNAME": user, "GRIDTWIN_MQTT_PASSWORD": password}
        out, err = finish(start_run(path, tmp_path / "run", broker.url, env))
    finally:
        broker.stop()
    assert kpis(tmp_path / "run")["bus"]["published"] == 20  # the credentials were used
    for text in (out, err):
        assert password not in text and user not in text
    for file in (tmp_path / "run").rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert password.encode() not in data and user.encode() not in data, file


def test_tls_with_mqtts_url(tmp_path: Path) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = Broker(folder, tls=True)
    broker.start()
    try:
        path = scenario(tmp_path, 20, {"topic_prefix": "test/tls"})
        env = {"GRIDTWIN_MQTT_CA_FILE": str(broker.ca_file)}
        finish(start_run(path, tmp_path / "run", broker.url, env))
    finally:
        broker.stop()
    assert broker.url.startswith("mqtts://")
    bus = kpis(tmp_path / "run")["bus"]
    assert bus["connected"] and bus["published"] == 20 and bus["dropped"] == 0


@pytest.mark.parametrize(
    ("mqtt_section", "flag", "expected"),
    [
        (
            {"url": "http://127.0.0.1:1883"},
            None,
            "mqtt.url: got 'http://127.0.0.1:1883'; expected a URL like mqtt://",
        ),
        ({"url": "mqtt://127.0.0.1:1883", "qos": 2}, None, "mqtt.qos"),
        (
            {"url": "mqtt://127.0.0.1:1883", "ulr": 1},
            None,
            "mqtt.ulr: unknown key; did you mean 'url'?",
        ),
        ({"url": "mqtt://127.0.0.1:1883", "topic_prefix": "a/#"}, None, "mqtt.topic_prefix"),
        ({"url": "mqtt://127.0.0.1:1883"}, "mqtt://user:hunter2@127.0.0.1:1", "--mqtt: url:"),
    ],
)
def test_bad_mqtt_section_is_one_line_exit_2(
    tmp_path: Path, mqtt_section: dict, flag: str | None, expected: str
) -> None:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["mqtt"] = mqtt_section
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    cmd = [sys.executable, "-m", "gridtwin", "run", str(path), "-q", "--out", str(tmp_path / "r")]
    proc = subprocess.run(
        cmd + (["--mqtt", flag] if flag else []), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert "Traceback" not in proc.stderr and "hunter2" not in proc.stderr


# -- the external controller, end to end --------------------------------------------


def _start_controller(url: str, prefix: str) -> Any:
    script = ROOT / "examples/mqtt_voltage_controller.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--url", url, "--prefix", prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert "connected" in proc.stdout.readline()  # subscribed before the run starts
    return proc


def test_external_controller_over_mqtt_reduces_violations(tmp_path: Path, broker: Broker) -> None:
    """mosquitto, the gridtwin run and the controller script: three processes."""
    steps = 60
    results: dict[str, dict[str, Any]] = {}
    for case in ("with", "without"):
        prefix = f"test/e2e-{case}"
        # a loaded machine may delay an answer past one step (50 ms here): still accepted
        path = scenario(tmp_path, steps, {"topic_prefix": prefix, "max_lateness_s": 1.0})
        controller = _start_controller(broker.url, prefix) if case == "with" else None
        try:
            finish(start_run(path, tmp_path / case, broker.url))
        finally:
            if controller is not None:
                controller.terminate()
                out, _ = controller.communicate(timeout=10)
                assert "sent" in out
        results[case] = kpis(tmp_path / case)
    with_, without = results["with"], results["without"]
    assert with_["bus"]["accepted"] >= steps // 2  # set-points for most steps
    assert without["bus"]["accepted"] == 0
    commands = pd.read_parquet(tmp_path / "with" / "command.parquet")
    applied = commands[(commands["source"] == "mqtt") & (commands["status"] == "applied")]
    assert len(applied) >= steps // 4 and (applied["target"] == "sgen_q_set_mvar").all()
    assert with_["voltage"]["q_abs_mvarh"] > 0 == without["voltage"]["q_abs_mvarh"]
    assert without["voltage"]["violation_bus_steps"] > 0
    assert with_["voltage"]["violation_bus_steps"] < 0.5 * without["voltage"]["violation_bus_steps"]
