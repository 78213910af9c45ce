"""The topic layout of one run (pure).

Every topic sits under one prefix per run (default ``gridtwin/<run_id>``)::

    <prefix>/run                          retained: run id, scenario, step, formats, clock
    <prefix>/measurements                 each step: the measurement frame
    <prefix>/measurements/signals         retained: its VILLASnode signal list
    <prefix>/estimates[/signals]          each step: bus_vm_pu, bus_va_degree (optional)
    <prefix>/forecasts[/signals]          each step: forecast quantiles in effect (optional)
    <prefix>/status[/signals]             each step: reported switch and tap positions (optional)
    <prefix>/commands/<target>            in: commands (switch_closed, trafo_tap_pos, ...)
    <prefix>/commands/<target>/signals    retained: the elements a command addresses, ranges
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Topics", "resolve_prefix"]


def resolve_prefix(template: str, run_id: str, scenario: str) -> str:
    """The topic prefix with ``{run_id}`` and ``{scenario}`` filled in."""
    return template.replace("{run_id}", run_id).replace("{scenario}", scenario)


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics under ``prefix``."""

    prefix: str

    @property
    def run(self) -> str:
        return f"{self.prefix}/run"

    @property
    def measurements(self) -> str:
        return f"{self.prefix}/measurements"

    @property
    def estimates(self) -> str:
        return f"{self.prefix}/estimates"

    @property
    def forecasts(self) -> str:
        return f"{self.prefix}/forecasts"

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    @property
    def commands(self) -> str:
        """The subscription of every command topic."""
        return f"{self.prefix}/commands/+"

    def command(self, target: str) -> str:
        """The command topic of ``target``."""
        return f"{self.prefix}/commands/{target}"

    @staticmethod
    def signals(topic: str) -> str:
        """The retained signal list of ``topic``."""
        return f"{topic}/signals"

    def command_target(self, topic: str) -> str | None:
        """The target a command topic names, None for a topic outside ``commands/``."""
        head = f"{self.prefix}/commands/"
        if not topic.startswith(head):
            return None
        return topic[len(head) :]
