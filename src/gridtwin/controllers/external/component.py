"""An external automation function as a component: start it, feed it the view, check its commands.

::

    view ports ──to_wire (JSON)──► external simulator (cmd:/connect:, own process)
                                        │ commands (JSON)
    Channel ◄──time-shifted, CommandGate──┘   rejected → ``command_rejected`` table, kpis

The function is a stock mosaik simulator. gridtwin starts it
(``world.start``) with ``step_s``, ``name``, ``context`` (element names per
table, measurement names, DER ratings) and ``params`` (the scenario entry's
``params``), creates one entity of its ``model``, connects every port it
``reads`` through :func:`~gridtwin.controllers.external.wire.to_wire` and its
``commands`` output through a :class:`CommandGate` to the command channel.
It never gets the truth: the wiring refuses any port outside the view.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from gridtwin.components import Wiring
from gridtwin.controllers.external.wire import decode_commands, to_wire
from gridtwin.errors import InputError
from gridtwin.grid.command_limits import REJECTED_TABLE, CommandLimits, rejected_row
from gridtwin.grid.commands import COMMAND_TARGETS, Command, Target
from gridtwin.grid.topology import element_names

__all__ = ["REJECTED_TABLE", "CommandGate", "ExternalFunction", "function_context"]

log = logging.getLogger("gridtwin")


_TABLES = ("bus", "line", "trafo", "switch", "load", "sgen", "storage")


def function_context(wiring: Wiring, name: str) -> dict[str, Any]:
    """What an external function gets at ``init`` as ``context`` (plain JSON)."""
    net, plan = wiring.prepared.net, wiring.prepared.plan
    rating = net.sgen["sn_mva"].fillna(net.sgen["p_mw"].abs()).to_numpy(float)
    return {
        "name": name,
        "step_s": wiring.step_s,
        "elements": {t: element_names(net, t) for t in _TABLES},
        "measurement_names": list(plan.sc_name) if plan is not None else [],
        "sgen_rating_mva": to_wire(rating * wiring.scenario.profiles.sgen_scale),
    }


class CommandGate:
    """Turns an external function's ``commands`` output into checked Commands (a mosaik transform).

    Called once per step of the command channel with what the function sent
    one step earlier. A command that does not parse, names an unknown element
    or target, carries a non-finite or out-of-range value, or claims a time
    out of order is rejected: counted per reason, logged once per reason and
    recorded in the ``command_rejected`` table. The run goes on.
    """

    def __init__(
        self, name: str, elements: dict[str, list[str]], limits: CommandLimits, step_s: int
    ) -> None:
        self.name = name
        self.limits = limits
        self.step_s = step_s
        self.positions = {
            str(t): {n: i for i, n in enumerate(elements[table])}
            for t, (table, _) in COMMAND_TARGETS.items()
        }
        self.accepted = 0
        self.rejected: Counter[str] = Counter()
        self.store: Any = None
        self.start_s = 0
        self._calls = 0
        self._last: Any = None
        self._last_issued_s = -1

    def __call__(self, message: Any) -> list[Command]:
        self._calls += 1
        now_s = self._calls * self.step_s  # the channel's step: one per step, from one step on
        if message is self._last:  # mosaik hands on the last output again: nothing new
            return []
        self._last = message
        decoded, bad = decode_commands(message, self.positions)
        out: list[Command] = []
        for wire in decoded:
            target = Target(wire.target)
            problem = self.limits.check(target, wire.positions, wire.values, nan_means_default=True)
            if problem is None and not self._last_issued_s <= wire.issued_s < now_s:
                problem = (
                    "bad_time",
                    f"issued_s: got {wire.issued_s}; expected in "
                    f"[{max(self._last_issued_s, 0)}, {now_s}) s",
                )
            if problem is not None:
                bad.append((self._raw(wire), *problem))
                continue
            values = wire.values
            if target is Target.SGEN_P_LIMIT_MW:
                values = np.where(np.isnan(values), np.inf, values)  # null: no limit
            self._last_issued_s = wire.issued_s
            out.append(Command(self.name, wire.issued_s, target, wire.positions, values))
        self.accepted += len(out)
        for item, reason, detail in bad:  # recorded at the step the function sent them
            self._reject(now_s - self.step_s, item, reason, detail)
        return out

    def _raw(self, wire: Any) -> dict[str, Any]:
        names = {v: k for k, v in self.positions[wire.target].items()}
        return {
            "issued_s": wire.issued_s,
            "target": wire.target,
            "elements": [names[int(p)] for p in wire.positions],
            "values": to_wire(wire.values),
        }

    def _reject(self, sent_s: int, item: Any, reason: str, detail: str) -> None:
        if not self.rejected[reason]:
            log.warning(
                "function %s: command rejected (%s): %s; counted, further ones are not logged",
                self.name,
                reason,
                detail,
            )
        self.rejected[reason] += 1
        try:
            text = json.dumps(item, allow_nan=True)[:2000]
        except (TypeError, ValueError):
            text = repr(item)[:2000]
        time_s = self.start_s + sent_s
        row = rejected_row(
            time_s, sent_s, self.name, reason, detail, text, topic=None, received=None
        )
        if self.store is not None:
            self.store.append_rows(REJECTED_TABLE, [row])

    def section(self) -> dict[str, Any]:
        """This function's figures for ``kpis.json`` (``functions_external`` section)."""
        out: dict[str, Any] = {
            f"{self.name}.commands_accepted": self.accepted,
            f"{self.name}.commands_rejected": sum(self.rejected.values()),
        }
        out |= {f"{self.name}.rejected_{r}": n for r, n in sorted(self.rejected.items())}
        return out


class ExternalFunction:
    """One ``functions`` entry with ``cmd:`` or ``connect:``: a mosaik simulator of the user's."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.name = ""

    def plan(self, wiring: Wiring) -> None:
        spec = wiring.scenario.functions[self.index]
        self.spec = spec
        self.name = str(spec.name)
        net = wiring.prepared.net
        self.gate = CommandGate(
            self.name,
            {t: element_names(net, t) for t in _TABLES},
            CommandLimits.from_net(net, wiring.scenario.profiles.sgen_scale),
            wiring.step_s,
        )
        gates: list[CommandGate] = wiring.resources.setdefault("external_gates", [])
        if not gates:
            wiring.sections.append(lambda: {"functions_external": _merged(gates)})
        gates.append(self.gate)

    def add(self, wiring: Wiring) -> None:
        missing = wiring.missing(self.spec.reads)
        if missing:
            raise InputError(
                wiring.scenario.source_file,
                f"functions[{self.index}].reads",
                f"got {', '.join(missing)}, which nothing in this scenario provides; expected "
                "ports of its sections (estimate: estimation, forecast and pseudo: forecasting, "
                "measurement_frame: measurements, reports: events)",
            )
        store = wiring.recorder_params.get("store")
        if store is not None:
            store.append_rows(REJECTED_TABLE, [])  # present even when nothing is rejected
        self.gate.store = store
        self.gate.start_s = int(wiring.scenario.time.start.timestamp())
        entity = self._start(wiring)
        wiring.add_function(self.name, entity, transform=self.gate)
        wiring.read(entity, *self.spec.reads, transform=to_wire)

    def _start(self, wiring: Wiring) -> Any:
        from mosaik.exceptions import ScenarioError, SimulationError
        from mosaik.starters import ConnectStarter
        from mosaik_api_v3.connection import RemoteException

        from gridtwin.controllers.external.starter import ProcessStarter, StartError

        spec, source = self.spec, wiring.scenario.source_file
        field = f"functions[{self.index}]." + ("cmd" if spec.cmd is not None else "connect")
        base = Path(source).parent if source != "<scenario>" else Path.cwd()
        run_dir = Path(wiring.resources.get("run_dir", base))
        starter = (
            ProcessStarter(
                spec.cmd,
                cwd=base,
                log_path=run_dir / f"function-{self.name}.log",
                timeout_s=spec.start_timeout,
            )
            if spec.cmd is not None
            else ConnectStarter.from_addr_string(str(spec.connect))
        )
        init = {
            "step_s": wiring.step_s,
            "name": self.name,
            "context": function_context(wiring, self.name),
            "params": spec.params,
        }
        try:
            factory = wiring.world.start(starter, sim_id=self.name, **init)
            return getattr(factory, spec.model)()
        except (StartError, SimulationError, ScenarioError, RemoteException, AttributeError) as e:
            message = f"external function {self.name!r}: {_one_line(e)}"
            raise InputError(source, field, message) from None


def _merged(gates: list[CommandGate]) -> dict[str, Any]:
    return {k: v for gate in gates for k, v in gate.section().items()}


def _one_line(exc: BaseException) -> str:
    from mosaik_api_v3.connection import RemoteException

    if isinstance(exc, RemoteException):
        return f"{exc.remote_type}: {exc.remote_msg}"
    return " ".join(str(exc).split())[:400]
