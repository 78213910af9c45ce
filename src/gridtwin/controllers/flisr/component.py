"""FLISR as a component: indications, metered powers and crew reports in, switch commands out."""

from __future__ import annotations

from typing import Any

import numpy as np

from gridtwin.components import Wiring
from gridtwin.controllers.reconfig.component import METERED
from gridtwin.grid.topology import resolve_target

__all__ = ["Flisr", "fault_truth"]


def fault_truth(schedule: list[Any]) -> tuple[list[tuple[int, int, int | None]], list[int]]:
    """Permanent line faults (line, time, repair time or None) and all repair times [s].

    Testbed side: the KPIs compare FLISR's incidents with these.
    """
    faults: list[tuple[int, int, int | None]] = []
    repairs = [e.time_s for e in schedule if e.type == "repair"]
    for e in schedule:
        if e.type == "line_fault" and dict(e.params).get("permanent", 1.0) >= 0.5:
            for line in e.positions:
                rep = [
                    r.time_s
                    for r in schedule
                    if r.type == "repair" and line in r.positions and r.time_s >= e.time_s
                ]
                faults.append((int(line), e.time_s, min(rep) if rep else None))
    return faults, repairs


def _indicator_mask(net: Any, indicators: Any) -> np.ndarray | None:
    """Per switch: a fault passage indicator there (None: at every switch)."""
    if indicators == "all":
        return None
    mask = np.zeros(len(net.switch), dtype=bool)
    for name in indicators:
        mask[resolve_target(net, "switch", name)] = True
    return mask


class Flisr:
    """The ``flisr`` section: fault location, isolation and service restoration.

    Reads reported switch and line positions, fault passage indications,
    metered powers and crew repair reports; writes switch commands. Records
    ``flisr_incidents`` when the run ends; KPIs in section ``flisr`` (with the
    testbed's reliability figures).

    Summary rows: :mod:`gridtwin.declarations.flisr`.
    """

    name = "flisr"

    def plan(self, wiring: Wiring) -> None:
        self.flisr: Any = None

        def section() -> dict:
            rel = wiring.resources.get("reliability_kpis")
            if self.flisr is None or rel is None:
                return {}
            faults, repairs = fault_truth(wiring.prepared.schedule)
            incidents = self.flisr.incidents
            ops = sum(len(i.isolation) + len(i.reclosed) + len(i.ties) for i in incidents)
            return {"flisr": rel.flisr_section(incidents, faults, repairs, ops)}

        wiring.sections.append(section)
        wiring.closing.append(self._write_incidents)
        self.start_s = int(wiring.scenario.time.start.timestamp())
        self.net = wiring.prepared.net

    def _write_incidents(self, store: Any) -> None:
        """The ``flisr_incidents`` rows (announced: written empty without incidents)."""
        from gridtwin.controllers.flisr.tables import TABLE, incident_rows
        from gridtwin.grid.topology import element_names

        incidents = [] if self.flisr is None else self.flisr.incidents
        names = element_names(self.net, "line"), element_names(self.net, "switch")
        store.append_rows(TABLE, incident_rows(incidents, *names, self.start_s))

    def add(self, wiring: Wiring) -> None:
        from gridtwin.controllers.flisr import Flisr as Algorithm
        from gridtwin.controllers.flisr.feasibility import RestorationCheck
        from gridtwin.grid.protection import DeviceGraph

        spec, net = wiring.scenario.flisr, wiring.prepared.net
        graph = DeviceGraph.from_net(net)
        check = RestorationCheck(
            net,
            wiring.resources["new_engine"](),
            vm_min_pu=spec.vm_min_pu,
            vm_max_pu=spec.vm_max_pu,
            max_loading_percent=spec.max_loading_percent,
        )
        n_sw = len(net.switch)
        remote = {
            "all": np.ones(n_sw, dtype=bool),
            "breakers": graph.switch_is_cb.copy(),
            "none": np.zeros(n_sw, dtype=bool),
        }[spec.remote]
        self.flisr = Algorithm(
            graph,
            net.switch["closed"].to_numpy(dtype=bool).copy(),
            check,
            remote,
            remote_time_s=spec.remote_time,
            manual_time_s=spec.manual_time,
            confirm_s=spec.confirm,
            indicators=_indicator_mask(net, spec.indicators),
        )
        sim = wiring.world.start(
            "Flisr", flisr=self.flisr, step_s=wiring.step_s, meter=check.meter, name=self.name
        )
        entity = wiring.add_function(self.name, sim.Flisr())
        wiring.read(
            entity,
            ("reported_switch_closed", "switch_closed"),
            ("reported_line_in_service", "line_in_service"),
            ("fault_indication", "fault_passed"),
            *METERED,
        )
        wiring.read(entity, "reports", optional=True)
