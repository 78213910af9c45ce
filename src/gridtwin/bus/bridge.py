"""The bridge: one step's view out to the bus, the commands received since in (no mosaik).

The bus clock stamps every published message and judges every command:
simulated time (``time.start`` + simulation time) or, in real-time runs,
wall-clock time. A command received while simulation time ``t`` lasts (after
the view of ``t`` was published) is taken at the next step and issued at
``t``; the command channel delays it by one step (or its latency) from
there, as any function's command.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridtwin.bus.client import BusClient, Received
from gridtwin.bus.commands import CommandParser, Reason, Rejected
from gridtwin.bus.topics import Topics
from gridtwin.bus.views import View
from gridtwin.grid.command_limits import REJECTED_TABLE, rejected_row
from gridtwin.grid.commands import Command

__all__ = ["Bridge", "BusClock"]

log = logging.getLogger("gridtwin")

PAYLOAD_EXCERPT = 200
"""Characters of a rejected payload kept in ``command_rejected``."""


@dataclass(frozen=True, slots=True)
class BusClock:
    """The time stamps of the bus.

    ``wall``: wall-clock seconds since the epoch; else ``start_s + time_s``.
    ``step_s`` is one step on this clock [s] (the lateness bound's default).
    """

    start_s: int
    wall: bool
    step_s: float

    def now(self, time_s: int) -> float:
        """The bus time of simulation time ``time_s`` (wall: now)."""
        return time.time() if self.wall else float(self.start_s + time_s)


@dataclass
class Bridge:
    """Publishes views, parses commands, counts everything.

    Parameters
    ----------
    client : BusClient
        The connection.
    topics : Topics
        The run's topics.
    parser : CommandParser
        Validates command messages.
    clock : BusClock
        The bus clock.
    views : dict
        Topic group (``measurements``, ``estimates``, ``status``) -> :class:`View`.
    max_lateness_s : float
        Bound of a command's age on the bus clock [s].
    store : object
        The run store (``append_rows``) for the ``command_rejected`` rows.
    qos : int
        QoS of the published views.
    """

    client: BusClient
    topics: Topics
    parser: CommandParser
    clock: BusClock
    views: dict[str, View]
    max_lateness_s: float
    store: Any
    run_info: bytes = b"{}"
    qos: int = 0
    step_s: int = 1
    published: int = 0
    published_values: int = 0
    dropped: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    last_view_s: int = -1
    _overflow_seen: int = 0
    reply_ms: list[float] = field(default_factory=list)
    handover_ms: list[float] = field(default_factory=list)

    def retained(self) -> list[tuple[str, bytes]]:
        """The retained messages: run info, every signal list (re-sent after each connection)."""
        out = [(self.topics.run, self.run_info)]
        out += [(Topics.signals(v.topic), v.signals()) for v in self.views.values()]
        out += [
            (Topics.signals(self.topics.command(name)), spec.signals())
            for name, spec in self.parser.specs.items()
        ]
        return out

    def publish(self, time_s: int, values: dict[str, np.ndarray]) -> None:
        """Publish one step's values per topic group; dropped (counted) while disconnected."""
        ts_s = self.clock.now(time_s)
        sequence = time_s // self.step_s
        for group, view in self.views.items():
            data = values.get(group)
            if data is None:
                continue
            for payload in view.encode(ts_s, sequence, data):
                if self.client.publish(view.topic, payload, qos=self.qos):
                    self.published += 1
                    if group == "measurements":
                        self.published_values += int(np.isfinite(data).sum())
                else:
                    self.dropped += 1
        self.last_view_s = time_s

    def commands(self, time_s: int) -> list[Command]:
        """The accepted commands received since the last call, issued at the previous step."""
        issued_s = max(0, time_s - self.step_s)
        rows: list[dict[str, Any]] = []
        out: list[Command] = []
        for message in self.client.take():
            result = self._parse(message, issued_s)
            if isinstance(result, Command):
                out.append(result)
                self.accepted += 1
                if self.clock.wall:  # its answer's age: at the bridge, and handed to the grid
                    self.reply_ms.append((message.received_s - self.parser.last_ts_s) * 1e3)
                    self.handover_ms.append((time.time() - self.parser.last_ts_s) * 1e3)
            else:
                rows.append(self._reject(message, result, issued_s))
        overflow = self.client.overflow - self._overflow_seen
        if overflow > 0:  # the inbox was full: counted, not kept
            self._overflow_seen += overflow
            self._count(Reason.OVERFLOW, self.topics.commands, f"{overflow} commands not kept")
            self.rejected[Reason.OVERFLOW] += overflow - 1
        if rows:
            self.store.append_rows(REJECTED_TABLE, rows)
        return out

    def _parse(self, message: Received, issued_s: int) -> Command | Rejected:
        now = message.received_s if self.clock.wall else self.clock.now(issued_s)
        return self.parser.parse(
            self.topics.command_target(message.topic),
            message.payload,
            issued_s=issued_s,
            now_bus_s=now,
            max_lateness_s=self.max_lateness_s,
            max_ahead_s=self.clock.step_s,
        )

    def _count(self, reason: str, topic: str, detail: str) -> None:
        if self.rejected[reason] == 0:
            log.warning(
                "mqtt: rejected a command (%s) on %s: %s; further %s rejections are counted "
                "in kpis.json bus and listed in command_rejected, not logged",
                reason,
                topic,
                detail,
                reason,
            )
        self.rejected[reason] += 1

    def _reject(self, message: Received, result: Rejected, issued_s: int) -> dict[str, Any]:
        self._count(result.reason, message.topic, result.detail)
        return rejected_row(
            self.clock.start_s + issued_s,
            issued_s,
            self.parser.source,
            str(result.reason),
            result.detail,
            message.payload[:PAYLOAD_EXCERPT].decode("utf-8", "replace"),
            topic=message.topic,
            received=message.received_s,
        )

    def section(self) -> dict[str, Any]:
        """The ``bus`` section of ``kpis.json``.

        With the wall clock, ``command_reply_ms_*``: from a message's time stamp
        (the frame it answers) to its arrival at the bridge; ``command_roundtrip_ms_*``:
        to its handover to the command channel at the next step (the grid applies it
        in that step).
        """
        rejected = {f"rejected_{r.value}": int(self.rejected[r]) for r in Reason}
        return {
            "published": self.published,
            "published_values": self.published_values,
            "dropped": self.dropped,
            "accepted": self.accepted,
            "rejected": int(sum(rejected.values())),
            **rejected,
            "reconnects": max(0, self.client.connects - 1),
            "disconnects": self.client.disconnects,
            "connected": self.client.connects > 0,
            **_percentiles("command_reply_ms", self.reply_ms),
            **_percentiles("command_roundtrip_ms", self.handover_ms),
        }


def _percentiles(name: str, values: list[float]) -> dict[str, float]:
    """p50 and p99 of ``values`` (absent without values)."""
    if not values:
        return {}
    p50, p99 = np.percentile(np.asarray(values), [50, 99])
    return {f"{name}_p50": float(p50), f"{name}_p99": float(p99)}
