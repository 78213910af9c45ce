"""Commands from the bus: parse, validate, make :class:`~gridtwin.grid.commands.Command` (pure).

A command message is accepted whole or rejected whole, for one reason
(:class:`Reason`): it does not parse as the topic's format, its topic names
no command target, it names an element the target does not have, a value is
not finite or outside the target's range, or its time stamp is older than
the lateness bound (or ahead of the bus clock). Nothing of a rejected
message reaches the grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from gridtwin.bus.payloads import PayloadError, Reading, signal_list, sogno_decode, villas_decode
from gridtwin.grid.command_limits import CommandLimits, Range
from gridtwin.grid.commands import Command, Target

if TYPE_CHECKING:
    import pandapower as pp

__all__ = [
    "COMMAND_MEASURANDS",
    "CommandParser",
    "Reason",
    "Rejected",
    "TargetSpec",
    "target_specs",
]


class Reason(StrEnum):
    """Why a command message was rejected."""

    UNPARSABLE = "unparsable"  # not JSON, or not the topic's format
    UNKNOWN_TOPIC = "unknown_topic"  # commands/<x> with no target x
    UNKNOWN_ELEMENT = "unknown_element"  # a component (or measurand) the target does not have
    NON_FINITE = "non_finite"  # NaN or infinite value or time stamp
    OUT_OF_RANGE = "out_of_range"  # outside the target's range, or a time stamp ahead of the bus
    LATE = "late"  # older than the lateness bound
    OVERFLOW = "overflow"  # more commands pending than max_pending_commands


COMMAND_MEASURANDS: dict[Target, tuple[str, str]] = {
    Target.SWITCH_CLOSED: ("switchclosed", "-"),
    Target.TRAFO_TAP_POS: ("tapposition", "-"),
    Target.SGEN_Q_SET_MVAR: ("reactivepower", "MVAr"),
    Target.SGEN_P_LIMIT_MW: ("activepowerlimit", "MW"),
    Target.STORAGE_P_SET_MW: ("activepower", "MW"),
}
"""Per command target: its SOGNO measurand and unit."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A rejected message: why, and what was wrong (one line)."""

    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """What a command target addresses on the bus: its elements and their ranges.

    The ranges are the grid's (:class:`~gridtwin.grid.command_limits.CommandLimits`),
    the same an external mosaik function's commands are checked against.
    """

    target: Target
    limits: CommandLimits
    index: dict[str, int] = field(default_factory=dict)

    @property
    def range(self) -> Range:
        return self.limits.ranges[self.target]

    @property
    def names(self) -> list[str]:
        return self.range.names

    @property
    def lo(self) -> np.ndarray:
        return self.range.lo

    @property
    def hi(self) -> np.ndarray:
        return self.range.hi

    @property
    def measurand(self) -> str:
        return COMMAND_MEASURANDS[self.target][0]

    @property
    def unit(self) -> str:
        return COMMAND_MEASURANDS[self.target][1]

    def signals(self) -> bytes:
        """The retained signal list of the command topic (with each element's range)."""
        return signal_list(
            self.names,
            [self.unit] * len(self.names),
            min=_json_bounds(self.lo),
            max=_json_bounds(self.hi),
        )


def _json_bounds(bounds: np.ndarray) -> list[float | None]:
    """Bounds for JSON: ``null`` where there is none (an infinite bound)."""
    return [float(b) if np.isfinite(b) else None for b in bounds]


def target_specs(net: pp.pandapowerNet, sgen_scale: float = 1.0) -> dict[str, TargetSpec]:
    """Per command target of the bus: the elements of ``net`` it addresses and their ranges.

    The ranges are :meth:`CommandLimits.from_net`'s (see
    :mod:`gridtwin.grid.command_limits`); a DER rating is ``sn_mva`` (else
    ``p_mw``) times the scenario's ``sgen_scale``.
    """
    limits = CommandLimits.from_net(net, sgen_scale)
    return {
        str(t): TargetSpec(t, limits, {n: i for i, n in enumerate(limits.ranges[t].names)})
        for t in COMMAND_MEASURANDS
    }


@dataclass(slots=True)
class CommandParser:
    """Turns command messages into Commands, or rejects them.

    Parameters
    ----------
    specs : dict
        :func:`target_specs` of the network.
    fmt : str
        The payload format of command topics: ``villas`` or ``sogno``.
    source : str
        The name commands are recorded under (``mqtt``).
    """

    specs: dict[str, TargetSpec]
    fmt: str
    source: str = "mqtt"
    last_ts_s: float = float("nan")  # the time stamp of the last accepted command [s]

    def parse(
        self,
        target: str | None,
        payload: bytes,
        *,
        issued_s: int,
        now_bus_s: float,
        max_lateness_s: float,
        max_ahead_s: float,
    ) -> Command | Rejected:
        """One command message as a Command issued at ``issued_s``, or why not.

        ``now_bus_s`` is the bus clock the message is judged against [s since
        the epoch]; a time stamp older than ``now_bus_s - max_lateness_s`` is
        late, one later than ``now_bus_s + max_ahead_s`` out of range.
        """
        spec = self.specs.get(target or "")
        if spec is None:
            expected = ", ".join(self.specs)
            return Rejected(Reason.UNKNOWN_TOPIC, f"got commands/{target}; expected {expected}")
        try:
            ts_s, positions, values = (
                self._villas(spec, payload) if self.fmt == "villas" else self._sogno(spec, payload)
            )
        except PayloadError as exc:
            return Rejected(Reason.UNPARSABLE, f"{self.fmt}: {exc}")
        except _UnknownError as exc:
            return Rejected(Reason.UNKNOWN_ELEMENT, str(exc))
        problem = _check_values(spec, ts_s, positions, values)
        if problem is not None:
            return problem
        lateness_s = now_bus_s - ts_s
        if lateness_s > max_lateness_s:
            return Rejected(
                Reason.LATE,
                f"time stamp {lateness_s:.3f} s behind the bus clock; "
                f"expected at most {max_lateness_s:g} s",
            )
        if -lateness_s > max_ahead_s:
            return Rejected(
                Reason.OUT_OF_RANGE,
                f"time stamp {-lateness_s:.3f} s ahead of the bus clock; "
                f"expected at most {max_ahead_s:g} s",
            )
        self.last_ts_s = ts_s
        return Command(self.source, int(issued_s), spec.target, positions, values)

    def _villas(self, spec: TargetSpec, payload: bytes) -> tuple[float, np.ndarray, np.ndarray]:
        samples = villas_decode(payload)
        sample = samples[-1]  # the newest; earlier samples in one message are superseded
        if len(sample.data) != len(spec.names):
            raise PayloadError(
                f"data: got {len(sample.data)} values; expected {len(spec.names)} "
                "(one per signal of the topic's signal list, null for no change)"
            )
        positions = [i for i, v in enumerate(sample.data) if v is not None]
        if not positions:
            raise PayloadError("data: every value is null; expected at least one value")
        values = [sample.data[i] for i in positions]
        return sample.ts_s, np.asarray(positions, np.int64), np.asarray(values, float)

    def _sogno(self, spec: TargetSpec, payload: bytes) -> tuple[float, np.ndarray, np.ndarray]:
        message = sogno_decode(payload)
        if not message.readings:
            raise PayloadError("readings: empty; expected at least one reading")
        positions, values = _sogno_readings(spec, message.readings)
        return message.ts_s, positions, values


class _UnknownError(LookupError):
    pass


def _sogno_readings(spec: TargetSpec, readings: Sequence[Reading]) -> tuple[np.ndarray, np.ndarray]:
    positions: list[int] = []
    values: list[float] = []
    for k, r in enumerate(readings):
        if r.measurand != spec.measurand:
            raise _UnknownError(
                f"readings[{k}].measurand: got {r.measurand!r}; expected {spec.measurand!r}"
            )
        pos = spec.index.get(r.component)
        if pos is None:
            raise _UnknownError(f"readings[{k}].component: no {spec.target.value} {r.component!r}")
        if pos in positions:
            raise PayloadError(f"readings[{k}].component: {r.component!r} given twice")
        if r.data is None:
            raise PayloadError(f"readings[{k}].data: null; expected a number")
        positions.append(pos)
        values.append(r.data)
    return np.asarray(positions, np.int64), np.asarray(values, float)


def _check_values(
    spec: TargetSpec, ts_s: float, positions: np.ndarray, values: np.ndarray
) -> Rejected | None:
    if not math.isfinite(ts_s):
        return Rejected(Reason.NON_FINITE, f"time stamp: got {ts_s}; expected a finite time")
    problem = spec.limits.check(spec.target, positions, values)
    return None if problem is None else Rejected(Reason(problem[0]), problem[1])
