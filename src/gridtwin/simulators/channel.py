"""The command channel: every function's commands reach the grid through it (pure; no mosaik).

A command sent at ``t`` arrives at the first step at or after
``t + max(step, latency)`` (a command never acts in the step it was decided
on). A telecontrol command (not ``local``) is dropped while a ``comms_loss``
lasts and lost with the scenario's loss probability, drawn from its own
seeded generator so that the same seed loses the same commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from gridtwin.grid.commands import Command, CommandStatus

__all__ = ["CommandChannel", "CommandRecord", "arrival_records"]


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """One command's fate, for the ``command`` table."""

    command_id: int
    source: str
    target: str
    n_elements: int
    local: bool
    issued_s: int
    arrival_s: int  # -1: never arrives
    status: str


@dataclass(slots=True)
class CommandChannel:
    """Delays, drops and loses commands.

    Parameters
    ----------
    step_s : int
        Simulation step [s].
    latency_s : int
        Telecontrol latency [s]; commands arrive one step later at the earliest.
    loss_probability : float
        Chance that a telecontrol command is lost [-].
    seed : int
        Seed of the loss draws.
    end_s : int
        End of the run [s]; a command due later is recorded ``late``.
    """

    step_s: int
    latency_s: int = 0
    loss_probability: float = 0.0
    seed: int = 0
    end_s: int = 2**62
    comms_lost: bool = False
    _queue: list[tuple[int, Command]] = field(default_factory=list)
    _sent: int = 0
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng([self.seed, 0x636D64])

    def arrival_s(self, command: Command) -> int:
        """The step at which ``command`` reaches the grid [s]."""
        delay = self.step_s if command.local else max(self.step_s, self.latency_s)
        steps = -(-(command.issued_s + delay) // self.step_s)
        return int(steps * self.step_s)

    def send(self, commands: Sequence[Command]) -> list[CommandRecord]:
        """Accept commands; return the records of those that will never arrive."""
        lost: list[CommandRecord] = []
        for command in commands:
            self._sent += 1
            command = replace(command, command_id=self._sent)
            arrival = self.arrival_s(command)
            status = None
            if not command.local and self.comms_lost:
                status = CommandStatus.DROPPED_COMMS
            elif (
                not command.local
                and self.loss_probability > 0
                and self._rng.random() < self.loss_probability
            ):
                status = CommandStatus.LOST
            elif arrival >= self.end_s:
                status = CommandStatus.LATE
            if status is None:
                self._queue.append((arrival, command))
            else:
                lost.append(_record(command, -1, status))
        return lost

    def due(self, time_s: int) -> list[Command]:
        """The commands arriving at ``time_s``, in the order they were sent."""
        out = [c for at, c in self._queue if at <= time_s]
        self._queue = [(at, c) for at, c in self._queue if at > time_s]
        return out


def _record(command: Command, arrival_s: int, status: str) -> CommandRecord:
    return CommandRecord(
        command.command_id,
        command.source,
        str(command.target),
        command.n_elements,
        command.local,
        command.issued_s,
        arrival_s,
        str(status),
    )


def arrival_records(
    commands: Sequence[Command], arrival_s: int, took_effect: Sequence[bool]
) -> list[CommandRecord]:
    """Records of commands that arrived at ``arrival_s`` (applied or not)."""
    return [
        _record(c, arrival_s, CommandStatus.APPLIED if e else CommandStatus.NO_CHANGE)
        for c, e in zip(commands, took_effect, strict=True)
    ]
