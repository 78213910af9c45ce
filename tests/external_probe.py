"""An external function for the tests: a plain mosaik simulator (no gridtwin import).

It writes every view it receives to ``params["dump"]`` (one JSON line per
step) and sends, at each step listed in ``params["send"]`` (``{"<time_s>":
message}``), that message as its ``commands`` output, as it is: the tests
put good and bad commands there (``"inf"``/``"nan"`` in ``values``: sent as
JSON's non-standard ``Infinity``/``NaN``). ``python external_probe.py HOST:PORT``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import mosaik_api_v3

PORTS = ["measurement_frame", "telemetry", "reported_trafo_tap_pos", "der_available_p_mw"]
META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Probe": {"public": True, "params": [], "attrs": [*PORTS, "commands"]}},
}


def _floats(message: Any) -> Any:
    """The message with the strings "inf" and "nan" in command values as floats (sent as JSON's
    non-standard Infinity and NaN, which a scenario file cannot hold)."""
    if isinstance(message, list):
        return [_floats(m) for m in message]
    if isinstance(message, dict) and isinstance(message.get("values"), list):
        special = {"inf": float("inf"), "nan": float("nan")}
        return message | {"values": [special.get(v, v) for v in message["values"]]}
    return message


class Probe(mosaik_api_v3.Simulator):
    def __init__(self) -> None:
        super().__init__(META)
        self.out: Any = []

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> dict:
        self.step_s = int(sim_params["step_s"])
        self.params = sim_params["params"]
        with open(self.params["dump"], "w", encoding="utf-8") as f:
            f.write(json.dumps({"init": {k: v for k, v in sim_params.items()}}) + "\n")
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[dict]:
        return [{"eid": "probe", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        view = {port: next(iter(v.values())) for port, v in inputs.get("probe", {}).items()}
        with open(self.params["dump"], "a", encoding="utf-8") as f:
            f.write(json.dumps({"time": time, "view": view}) + "\n")
        self.out = _floats(self.params.get("send", {}).get(str(time), []))
        return time + self.step_s

    def get_data(self, outputs: dict) -> dict:
        return {"probe": {"commands": self.out}}


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "--fail":
        raise SystemExit("probe: told to fail before connecting")
    mosaik_api_v3.start_simulation(Probe(), "gridtwin test probe")
