"""mosaik adapter of the command channel (:mod:`gridtwin.simulators.channel`).

One entity ``Channel``. Inputs: ``commands`` from every automation function
(a list of :class:`~gridtwin.grid.commands.Command`; connected time-shifted,
so a command decided at ``t`` enters the channel one step later) and
``events`` (``comms_loss`` / ``comms_restore``). Outputs: ``commands``
(``(time_s, [Command, ...])``, those arriving at the grid now) and
``command_records`` (the records of commands that will never arrive).
"""

from __future__ import annotations

from typing import Any

import mosaik_api_v3
from mosaik_api_v3.types import CreateResult, InputData, Meta, OutputData, OutputRequest

from gridtwin.grid.commands import Command
from gridtwin.simulators.channel import CommandChannel, CommandRecord

__all__ = ["ChannelSimulator"]

META = {
    "api_version": "3.0",
    "type": "time-based",
    "models": {
        "Channel": {
            "public": True,
            "params": [],
            "attrs": ["commands", "events", "command_records"],
        }
    },
}


class ChannelSimulator(mosaik_api_v3.Simulator):
    """Runs a :class:`CommandChannel` (in-process). Parameters: ``channel``, ``step_s``."""

    def __init__(self) -> None:
        super().__init__(META)
        self.due: list[Command] = []
        self.records: list[CommandRecord] = []
        self.time = -1

    def init(self, sid: str, time_resolution: float = 1.0, **sim_params: Any) -> Meta:
        self.channel: CommandChannel = sim_params["channel"]
        self.step_s = int(sim_params["step_s"])
        return self.meta

    def create(self, num: int, model: str, **model_params: Any) -> list[CreateResult]:
        return [{"eid": "channel", "type": model}]

    def step(self, time: int, inputs: InputData, max_advance: int) -> int:
        attrs = inputs.get("channel", {})
        for at_s, events in attrs.get("events", {}).values():
            if at_s == time:
                for event in events:
                    if event.type in ("comms_loss", "comms_restore"):
                        self.channel.comms_lost = event.type == "comms_loss"
        sent: list[Command] = []
        for src in sorted(attrs.get("commands", {})):  # a fixed order: the same seed, the same run
            sent.extend(attrs["commands"][src] or [])
        self.records = self.channel.send(sent)
        self.due = self.channel.due(time)
        self.time = time
        return time + self.step_s

    def get_data(self, outputs: OutputRequest) -> OutputData:
        return {"channel": {"commands": (self.time, self.due), "command_records": self.records}}


if __name__ == "__main__":  # a process of its own: gridtwin.remote.main, reached by name
    import importlib

    raise SystemExit(importlib.import_module("gridtwin.remote").main("Channel"))
