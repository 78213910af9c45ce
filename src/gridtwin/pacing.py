"""Step timing of a mosaik world, and its pacing to the wall clock.

:class:`Pacer` wraps the ``send`` of every simulator's proxy in the world
(in-process and remote alike) just before the run, so that each ``step``
request is timed (the wall time of the call: compute, plus the round trip
for a simulator in another process) without a change to any simulator. In
real-time mode (a ``realtime`` section, or ``--real-time``) it also holds
each step request back until its scheduled wall time::

    due(t) = origin + factor * t        (origin: the wall time of the first step)

so no simulator runs ahead of the wall clock, and it measures each step's
*lateness*: the start of the first simulator's step at ``t`` minus ``due(t)``.
A step later than one step (``factor * time.step``) is an *overrun*; then
``on_overrun`` decides: ``warn`` logs it, ``skip`` drops that step's work of
the automation functions (their step is not called, their outputs stay,
their ``commands`` are empty), ``stop`` raises :class:`RealTimeStop`.

mosaik's own ``rt_factor`` is not used: mosaik 3 lets a simulator step once
``ceil(elapsed / rt_factor)`` reaches its time, checked on a poll of
``rt_factor`` seconds, so a step may start up to a whole step early or late,
and it keeps no statistics.

The figures go to the ``timing`` table (one row per simulator and step and
one ``step`` row, :data:`gridtwin.recording.store.ROW_SCHEMAS`), written
about two steps behind the run: in every real-time run, and in any run that
lists ``timing`` in ``recording.tables`` (lateness NaN there). It is not
recorded by default: wall-clock figures differ from run to run, and the rest
of a run directory is the same bit for bit for the same scenario and seed.
"""

from __future__ import annotations

import asyncio
import logging
import time as wallclock
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

__all__ = ["STEP_ELEMENT", "TIMING_TABLE", "Pacer", "RealTimeStop", "abandon", "pacer_for"]

log = logging.getLogger("gridtwin")

TIMING_TABLE = "timing"
STEP_ELEMENT = "step"
"""The element of the ``timing`` rows about the whole step (the others are simulators)."""

_FINE_NS = 2_000_000
"""The last 2 ms of a wait: ``time.sleep`` (tens of µs late), not the event loop (up to 1 ms)."""
_WARN_EVERY = 100

Send = Callable[[Any], Awaitable[Any]]


class RealTimeStop(Exception):  # noqa: N818  (a stop, not an error)
    """Raised into the mosaik loop when ``on_overrun: stop`` meets an overrun."""


@dataclass(slots=True)
class _Step:
    """What one step did: when it started, and each simulator's share."""

    time_s: int
    due_ns: int | None
    start_ns: int
    wall_ns: int
    end_ns: int = 0
    skipped: bool = False
    sims: dict[str, list[float]] = field(default_factory=dict)  # sid -> [start, wall, ns, skip]


class Pacer:
    """Times (and in real time paces) every simulator step of one run.

    Parameters
    ----------
    step_s : int
        The scenario's step [s].
    start_s : int
        The scenario's start [s since the epoch], for the ``time`` column.
    factor : float or None
        Wall seconds per simulated second; None: not paced, only timed.
    on_overrun : str
        ``warn``, ``skip`` or ``stop``.
    names : dict
        mosaik simulator id -> name in the ``timing`` table (its role).
    skippable : set of str
        Simulator ids whose steps ``skip`` may drop (the automation functions).
    recorder : str or None
        Simulator id of the recorder: its step at ``t`` writes the rows of the
        steps before ``t - step``.
    sink : object
        Where rows go (``append_rows``: the run store, or its InfluxDB fan-out).
    """

    def __init__(
        self,
        *,
        step_s: int,
        start_s: int,
        factor: float | None,
        on_overrun: str,
        names: dict[str, str],
        skippable: set[str],
        recorder: str | None,
        sink: Any,
    ) -> None:
        self.step_s = int(step_s)
        self.start_s = int(start_s)
        self.factor = factor
        self.on_overrun = on_overrun
        self.names = names
        self.skippable = skippable
        self.recorder = recorder
        self.sink = sink
        self.period_ns = None if factor is None else round(factor * self.step_s * 1e9)
        self.origin_ns: int | None = None
        self.lateness_ms: list[float] = []
        self.overruns = 0
        self.skipped_steps = 0
        self.stopped: str | None = None
        self._open: dict[int, _Step] = {}
        self._interval: dict[str, int] = {}
        self._silenced: set[str] = set()
        sink.append_rows(TIMING_TABLE, [])  # announced: written empty if no step runs

    def install(self, world: Any) -> None:
        """Wrap the ``send`` of every simulator proxy of ``world`` (a mosaik World)."""
        proxies = world._async_world._proxies  # mosaik 3: sid -> proxy of each started simulator
        for sid, proxy in proxies.items():
            proxy.send = self._wrap(sid, proxy.send)

    def _wrap(self, sid: str, send: Send) -> Send:
        async def timed_send(request: Any) -> Any:
            name = request[0]
            if name == "step":
                return await self._step(sid, send, request)
            if name == "get_data" and sid in self._silenced:
                return _without_commands(await send(request))
            return await send(request)

        return timed_send

    async def _wait_until(self, due_ns: int) -> None:
        now = wallclock.perf_counter_ns()
        if due_ns - now > _FINE_NS:
            await asyncio.sleep((due_ns - now - _FINE_NS) / 1e9)
            now = wallclock.perf_counter_ns()
        if due_ns > now:
            wallclock.sleep((due_ns - now) / 1e9)

    async def _step(self, sid: str, send: Send, request: Any) -> Any:
        if self.stopped is not None:
            raise RealTimeStop(self.stopped)
        time_s = int(request[1][0])
        due_ns = None
        if self.period_ns is not None:
            if self.origin_ns is None:
                self.origin_ns = wallclock.perf_counter_ns()
            due_ns = self.origin_ns + round(self.factor * time_s * 1e9)  # type: ignore[operator]
            await self._wait_until(due_ns)
        start_ns = wallclock.perf_counter_ns()
        step = self._open.get(time_s)
        if step is None:
            step = self._begin(time_s, due_ns, start_ns)
        if sid == self.recorder:
            self._write_before(time_s - self.step_s)
        late = due_ns is not None and start_ns - due_ns > self.period_ns  # type: ignore[operator]
        if late and self.on_overrun == "skip" and sid in self.skippable and sid in self._interval:
            self._silenced.add(sid)
            if not step.skipped:
                step.skipped = True
                self.skipped_steps += 1
            step.sims[sid] = [start_ns, wallclock.time_ns(), 0.0, 1.0]
            return time_s + self._interval[sid]
        wall_ns = wallclock.time_ns()
        result = await send(request)
        end_ns = wallclock.perf_counter_ns()
        self._silenced.discard(sid)
        if isinstance(result, int):
            self._interval[sid] = result - time_s
        entry = step.sims.setdefault(sid, [start_ns, wall_ns, 0.0, 0.0])
        entry[2] += end_ns - start_ns  # sub-steps at one time add up
        step.end_ns = max(step.end_ns, end_ns)
        return result

    def _begin(self, time_s: int, due_ns: int | None, start_ns: int) -> _Step:
        step = _Step(time_s, due_ns, start_ns, wallclock.time_ns())
        self._open[time_s] = step
        if due_ns is None:
            return step
        lateness_ns = start_ns - due_ns
        self.lateness_ms.append(lateness_ns / 1e6)
        if lateness_ns > self.period_ns:  # type: ignore[operator]
            self._overrun(time_s, lateness_ns)
        return step

    def _overrun(self, time_s: int, lateness_ns: int) -> None:
        self.overruns += 1
        text = (
            f"real time: the step at {_clock(time_s)} started {lateness_ns / 1e6:.0f} ms late, "
            f"more than one step ({self.period_ns / 1e6:.0f} ms)"  # type: ignore[operator]
        )
        if self.on_overrun == "stop":
            self.stopped = text + "; realtime.on_overrun is stop"
            self._open.pop(time_s, None)  # never ran
            raise RealTimeStop(self.stopped)
        if self.overruns == 1 or self.overruns % _WARN_EVERY == 0:
            log.warning(
                "%s (%d overruns so far, on_overrun %s)", text, self.overruns, self.on_overrun
            )

    def _write_before(self, time_s: int) -> None:
        done = [t for t in self._open if t < time_s]
        if done:
            rows: list[dict[str, Any]] = []
            for t in sorted(done):
                rows += self._rows(self._open.pop(t))
            self.sink.append_rows(TIMING_TABLE, rows)

    def finish(self) -> None:
        """Write the rows of every step not yet written (at the end of the run)."""
        self._write_before(2**62)

    def _rows(self, step: _Step) -> list[dict[str, Any]]:
        stamp = datetime.fromtimestamp(self.start_s + step.time_s, tz=UTC)
        base = {"time": stamp, "sim_time_s": step.time_s}
        due = step.due_ns

        def late(start_ns: float) -> float:
            return float("nan") if due is None else (start_ns - due) / 1e6

        end = max(step.end_ns, step.start_ns)
        rows = [
            base
            | {
                "element": STEP_ELEMENT,
                "wall_start_unix_ns": step.wall_ns,
                "lateness_ms": late(step.start_ns),
                "compute_ms": (end - step.start_ns) / 1e6,
                "skipped": step.skipped,
            }
        ]
        for sid, (start_ns, wall_ns, ns, skipped) in step.sims.items():
            rows.append(
                base
                | {
                    "element": self.names.get(sid, sid),
                    "wall_start_unix_ns": int(wall_ns),
                    "lateness_ms": late(start_ns),
                    "compute_ms": ns / 1e6,
                    "skipped": bool(skipped),
                }
            )
        return rows

    def kpis(self, steps: int) -> dict[str, dict[str, Any]]:
        """The ``realtime`` section of ``kpis.json`` (empty when not paced)."""
        if self.factor is None:
            return {}
        from gridtwin.report.realtime_kpis import realtime_kpis

        section = realtime_kpis(
            np.asarray(self.lateness_ms, dtype=float),
            period_ms=self.factor * self.step_s * 1e3,
            on_overrun=self.on_overrun,
            skipped_steps=self.skipped_steps,
            steps=steps,
        )
        if self.stopped is not None:
            section["stopped"] = self.stopped
        return {"realtime": section}


def _without_commands(data: Any) -> Any:
    """A skipped function's outputs: as they were, but no new ``commands``."""
    if not isinstance(data, dict):
        return data
    return {
        eid: (
            {**attrs, "commands": []} if isinstance(attrs, dict) and "commands" in attrs else attrs
        )
        for eid, attrs in data.items()
    }


def _clock(time_s: int) -> str:
    h, rest = divmod(int(time_s), 3600)
    return f"{h:02d}:{rest // 60:02d}:{rest % 60:02d} (sim time)"


def pacer_for(wiring: Any, sink: Any) -> Pacer | None:
    """The pacer of a built world, naming its simulators by their roles in ``wiring``.

    None when the run is neither paced (``realtime``) nor records ``timing``
    (``recording.tables``): then nothing is wrapped.
    """
    names: dict[str, str] = {}
    for role, entity in [*wiring.entities.items(), *wiring.functions.items()]:
        sid = getattr(entity, "sid", None)
        if isinstance(sid, str):
            names.setdefault(sid, role)
    for sid in world_sids(wiring.world):
        if sid not in names:  # started without a role (profiles, a script's own): by its model
            model = sid.rsplit("-", 1)[0].lower()
            names[sid] = model if model not in names.values() else sid
    skippable = {
        e.sid for e in wiring.functions.values() if isinstance(getattr(e, "sid", None), str)
    }
    scenario = wiring.scenario
    spec = getattr(scenario, "realtime", None)
    if spec is None and TIMING_TABLE not in scenario.recording.tables:
        return None
    return Pacer(
        step_s=scenario.time.step,
        start_s=int(scenario.time.start.timestamp()),
        factor=None if spec is None else float(spec.factor),
        on_overrun="warn" if spec is None else str(spec.on_overrun),
        names=names,
        skippable=skippable,
        recorder=getattr(wiring.entities.get("recorder"), "sid", None),
        sink=sink,
    )


def world_sids(world: Any) -> list[str]:
    """The ids of the simulators started in a mosaik World."""
    return list(world._async_world._proxies)


def abandon(world: Any) -> None:
    """After :class:`RealTimeStop`: cancel the simulators' pending steps, shut the world down."""
    for runner in world._async_world._get_sim_runners().values():
        task = getattr(runner, "task", None)
        if task is not None and not task.done():
            task.cancel()
    world.shutdown()
