"""An external voltage controller on gridtwin's MQTT process bus (paho-mqtt only).

It does not import gridtwin: it reads what any process-bus client reads. It
subscribes to the measurement frames (VILLASnode JSON) and their signal list,
takes the bus-voltage magnitudes (``<device>:vm_pu:<bus>``), and answers each
frame with reactive-power set-points for every DER on
``<prefix>/commands/sgen_q_set_mvar`` (VILLASnode JSON, one value per signal
of that topic's retained signal list, each within its ``min``/``max``).

Control law (a central integral controller on the highest measured voltage)::

    u <- clip(u + gain * (max(vm_pu) - v_set_pu), 0, 1)
    q_i = -u * q_max_i                   (absorb reactive power: lowers the voltage)

Each command carries the time stamp of the frame it answers, so gridtwin can
judge its lateness. Run it beside a run (three commands)::

    mosquitto -p 1883 &
    python examples/mqtt_voltage_controller.py --url mqtt://127.0.0.1:1883 &
    gridtwin run mv-rural-mqtt-voltage --mqtt mqtt://127.0.0.1:1883

Credentials, if the broker wants them: GRIDTWIN_MQTT_USERNAME / GRIDTWIN_MQTT_PASSWORD.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.parse
from typing import Any

import paho.mqtt.client as mqtt

TARGET = "sgen_q_set_mvar"


class Controller:
    """The integral Q controller; state per run prefix."""

    def __init__(self, client: mqtt.Client, v_set_pu: float, gain: float) -> None:
        self.client = client
        self.v_set_pu = v_set_pu
        self.gain = gain
        self.voltage_idx: dict[str, list[int]] = {}
        self.q_max: dict[str, list[float]] = {}
        self.u: dict[str, float] = {}
        self.sent = 0

    def on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if not msg.payload:  # a retained message cleared at the end of a run
            return
        topic = msg.topic
        if topic.endswith("/measurements/signals"):
            prefix = topic.removesuffix("/measurements/signals")
            names = [s["name"] for s in json.loads(msg.payload)]
            self.voltage_idx[prefix] = [i for i, n in enumerate(names) if ":vm_pu:" in n]
        elif topic.endswith(f"/commands/{TARGET}/signals"):
            prefix = topic.removesuffix(f"/commands/{TARGET}/signals")
            self.q_max[prefix] = [float(s["max"]) for s in json.loads(msg.payload)]
        elif topic.endswith("/measurements"):
            self.answer(topic.removesuffix("/measurements"), json.loads(msg.payload))

    def answer(self, prefix: str, samples: list[dict]) -> None:
        """Set-points for the newest frame of a run."""
        idx, q_max = self.voltage_idx.get(prefix), self.q_max.get(prefix)
        if not idx or q_max is None:
            return  # signal lists not seen yet
        sample = samples[-1]
        voltages = [sample["data"][i] for i in idx if sample["data"][i] is not None]
        if not voltages:
            return
        u = self.u.get(prefix, 0.0) + self.gain * (max(voltages) - self.v_set_pu)
        u = min(1.0, max(0.0, u))
        self.u[prefix] = u
        command = [
            {"ts": sample["ts"], "sequence": sample["sequence"], "data": [-u * q for q in q_max]}
        ]
        self.client.publish(f"{prefix}/commands/{TARGET}", json.dumps(command), qos=0)
        self.sent += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default="mqtt://127.0.0.1:1883", help="broker URL (mqtt:// or mqtts://)"
    )
    parser.add_argument(
        "--prefix",
        default="gridtwin/+",
        help="topic prefix of the runs to control (+ = any run id)",
    )
    parser.add_argument("--v-set", type=float, default=1.03, help="highest voltage wanted [pu]")
    parser.add_argument("--gain", type=float, default=5.0, help="integral gain [1/pu per frame]")
    args = parser.parse_args(argv)
    url = urllib.parse.urlsplit(args.url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"qv-controller-{os.getpid()}")
    if os.environ.get("GRIDTWIN_MQTT_USERNAME"):
        client.username_pw_set(
            os.environ["GRIDTWIN_MQTT_USERNAME"], os.environ.get("GRIDTWIN_MQTT_PASSWORD")
        )
    if url.scheme == "mqtts":
        client.tls_set()
    controller = Controller(client, args.v_set, args.gain)
    client.on_message = controller.on_message

    def subscribe(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        for suffix in ("measurements", "measurements/signals", f"commands/{TARGET}/signals"):
            client.subscribe(f"{args.prefix}/{suffix}", qos=0)
        print(f"controller: connected to {url.hostname}:{url.port}", flush=True)

    client.on_connect = subscribe
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    client.connect_async(url.hostname or "localhost", url.port or 1883, keepalive=10)
    client.loop_start()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    print(f"controller: sent {controller.sent} set-point messages", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
