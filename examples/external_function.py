"""An external automation function: a plain mosaik simulator in a process of its own.

It does not import gridtwin: only ``mosaik_api_v3`` and the JSON that mosaik
moves between processes. Declare it in a scenario (see
``scenarios/mv-rural-external.yaml``)::

    functions:
      - name: export_limiter
        cmd: "%(python)s ../examples/external_function.py %(addr)s"
        reads: [metered_load_p_mw, metered_sgen_p_mw, der_available_p_mw]
        params: {export_limit_mw: 4.0}

or start it yourself (``python examples/external_function.py --remote
127.0.0.1:5678``) and declare ``connect: "127.0.0.1:5678"`` instead of
``cmd``.

The rule is the one of ``examples/peak_shaving.py``: it estimates the export
to the upstream grid from the metered load and the DER units' available
power (generation minus load; losses left out) and, above
``export_limit_mw``, limits every unit to the same share of its available
power; when the export falls below the limit by ``release_margin_mw`` it lifts
the limits again (``null``: no limit).

What it gets from gridtwin
--------------------------
``init(sid, time_resolution, step_s, name, context, params)``: ``context``
holds the element names per pandapower table (``context["elements"]["sgen"]``
...), in the order of every array it receives and sends. Each step, one input
per port it reads, in the JSON wire form (arrays as lists, NaN as ``null``).
It outputs ``commands``: a list of
``{"issued_s": time, "target": "sgen_p_limit_mw", "elements": [names], "values": [MW or null]}``.
"""

from __future__ import annotations

import math
from typing import Any

import mosaik_api_v3

PORTS = ["metered_load_p_mw", "metered_sgen_p_mw", "der_available_p_mw"]
META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {"Function": {"public": True, "params": [], "attrs": [*PORTS, "commands"]}},
}


def _total(values: list[float | None] | None) -> float:
    """Sum of the readings that exist (``null`` = no reading)."""
    return math.fsum(v for v in values or [] if v is not None and math.isfinite(v))


class ExportLimiter(mosaik_api_v3.Simulator):
    """Keep the export to the upstream grid below a limit by curtailing DER evenly."""

    def __init__(self) -> None:
        super().__init__(META)
        self.commands: list[dict[str, Any]] = []
        self.limited = False

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> dict:
        self.step_s = int(sim_params["step_s"])
        self.sgen_names = list(sim_params["context"]["elements"]["sgen"])
        params = sim_params.get("params", {})
        self.limit_mw = float(params["export_limit_mw"])
        self.margin_mw = float(params.get("release_margin_mw", 0.2))
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[dict]:
        return [{"eid": "function", "type": model}]

    def step(self, time: int, inputs: dict, max_advance: int) -> int:
        view = {port: next(iter(v.values())) for port, v in inputs.get("function", {}).items()}
        self.commands = self.decide(time, view)
        return time + self.step_s

    def decide(self, time: int, view: dict[str, Any]) -> list[dict[str, Any]]:
        """The commands of step ``time`` from the view (port -> JSON value)."""
        available = view.get("der_available_p_mw")
        if available is None or view.get("metered_load_p_mw") is None:
            return []
        load_mw = _total(view["metered_load_p_mw"])
        available_mw = _total(available)
        if available_mw - load_mw > self.limit_mw and available_mw > 0:
            share = max(0.0, (self.limit_mw + load_mw) / available_mw)
            self.limited = True
            return [self._limits(time, [(a or 0.0) * share for a in available])]
        export_mw = _total(view.get("metered_sgen_p_mw")) - load_mw
        release = self.limit_mw - self.margin_mw
        if self.limited and export_mw < release and available_mw - load_mw < release:
            self.limited = False
            return [self._limits(time, [None] * len(available))]
        return []

    def _limits(self, time: int, p_limit_mw: list[float | None]) -> dict[str, Any]:
        return {
            "issued_s": time,
            "target": "sgen_p_limit_mw",
            "elements": self.sgen_names,
            "values": p_limit_mw,
        }

    def get_data(self, outputs: dict) -> dict:
        return {"function": {"commands": self.commands}}


def main() -> None:
    """``python external_function.py HOST:PORT`` (mosaik's ``cmd:``) or ``--remote HOST:PORT``."""
    mosaik_api_v3.start_simulation(ExportLimiter(), "export limiter (external function)")


if __name__ == "__main__":
    main()
