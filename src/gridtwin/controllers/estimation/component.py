"""State estimation as a component: measurement frames and reported positions in, estimates out."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from gridtwin.components import RowWriter, Wiring
from gridtwin.controllers.estimation.tables import (
    ESTIMATE_BUS_TABLE,
    ESTIMATE_LINE_TABLE,
    ESTIMATION_TABLE,
)
from gridtwin.grid.topology import element_names

__all__ = ["Estimation"]


class Estimation:
    """The ``estimation`` section: a WLS estimator with bad-data handling.

    Reads ``measurement_frame`` and the reported switch, line and tap
    positions; provides ``estimate``. Records ``estimate_bus``,
    ``estimate_line``, ``estimation`` (and ``bad_data_removed`` rows); KPIs
    in section ``se``.
    Summary rows, InfluxDB mapping, dashboard: :mod:`gridtwin.declarations.estimation`.
    """

    name = "estimation"

    def plan(self, wiring: Wiring) -> None:
        from gridtwin.report.se_kpis import SeKpis

        net, plan, scenario = wiring.prepared.net, wiring.prepared.plan, wiring.scenario
        wiring.record(ESTIMATE_BUS_TABLE, element_names(net, "bus"))
        wiring.record(ESTIMATE_LINE_TABLE, element_names(net, "line"))
        wiring.record(ESTIMATION_TABLE, ["estimator"])
        bounds = np.concatenate([plan.ch_active_from_s, plan.ch_active_until_s])
        starts = np.unique(bounds[(bounds > 0) & (bounds < scenario.time.duration)])
        kpis = SeKpis(plan.sc_name, [0, *starts.tolist()])
        wiring.feed(partial(_feed, kpis), "bad_data_removed")
        wiring.sections.append(lambda: {"se": kpis.section()})

    def add(self, wiring: Wiring) -> None:
        from gridtwin.controllers.estimation.wls import Topology

        spec, net, plan = wiring.scenario.estimation, wiring.prepared.net, wiring.prepared.plan
        kwargs = {
            "confidence": spec.chi2_confidence,
            "lnr_threshold": spec.lnr_threshold,
            "max_removals": spec.max_bad_data_removals,
        }
        if spec.engine == "pandapower":
            from gridtwin.controllers.estimation.pp_wls import PandapowerEstimator

            estimator: object = PandapowerEstimator(net, plan, **kwargs)
        else:
            from gridtwin.controllers.estimation.wls import WlsEstimator

            estimator = WlsEstimator(net, plan, **kwargs)
        sim = wiring.world.start(
            "Estimator",
            estimator=estimator,
            topology=Topology.from_net(net),
            step_s=wiring.step_s,
        )
        est = wiring.add_function(self.name, sim.Estimator(), commands=False)
        wiring.read(
            est,
            ("measurement_frame", "frame"),
            ("reported_switch_closed", "switch_closed"),
            ("reported_line_in_service", "line_in_service"),
            ("reported_trafo_tap_pos", "trafo_tap_pos"),
        )
        wiring.provide("estimate", est)
        wiring.connect(est, wiring.entities["recorder"], "estimate")


def _feed(kpis: Any, time_s: int, inputs: Any, write_rows: RowWriter) -> None:
    """The recorder's step: the ``bad_data_removed`` rows and the estimation KPIs."""
    frame, estimate = inputs["frame"], inputs["estimate"]
    if frame is None or estimate is None:
        return
    write_rows("bad_data_removed", time_s, [{"element": name} for name in estimate.removed])
    kpis.add(inputs["result"], frame, estimate)
