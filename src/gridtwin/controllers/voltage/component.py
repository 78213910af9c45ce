"""Voltage control as a component: OLTC, local Q(U)/P(U) curves and a centralized controller."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from gridtwin.components import RowWriter, Wiring
from gridtwin.grid.topology import element_names

__all__ = ["VoltageControl"]


def _tappable(net: Any) -> np.ndarray:
    trafo = net.trafo
    if not len(trafo):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(
        trafo["tap_max"].fillna(0).to_numpy() > trafo["tap_min"].fillna(0).to_numpy()
    )


def _oltc(vc: Any, net: Any, tappable: np.ndarray) -> Any:
    from gridtwin.controllers.voltage import Oltc

    if vc.oltc is None or not len(tappable):
        return None
    trafo = net.trafo
    t = trafo.iloc[tappable[0]]
    sign = -1.0 if str(t["tap_side"]) == "hv" else 1.0
    return Oltc(
        set_point_pu=vc.oltc.set_point_pu,
        dead_band_pu=vc.oltc.dead_band_pu,
        delay_s=vc.oltc.delay,
        tap_min=int(trafo["tap_min"].iloc[tappable].max()),
        tap_max=int(trafo["tap_max"].iloc[tappable].min()),
        raise_per_tap_pu=sign * float(t["tap_step_percent"]) / 100.0,
        ldc_r_pu=vc.oltc.ldc_r_pu,
        ldc_x_pu=vc.oltc.ldc_x_pu,
    )


def _local(vc: Any, rating: np.ndarray | None) -> Any:
    from gridtwin.controllers.voltage import PRESETS, Curve, LocalCurves

    if vc.local is None or rating is None:
        return None
    preset = PRESETS[vc.local.preset]

    def curve(spec: Any, name: str) -> Curve:
        return Curve(tuple(spec.v_pu), tuple(spec.y_pu)) if spec else preset[name]

    return LocalCurves(
        curve(vc.local.q_u, "q_u") if vc.local.q_u_enabled else None,
        curve(vc.local.p_u, "p_u") if vc.local.p_u_enabled else None,
        rating,
        vc.local.response_time_s,
    )


def _central(vc: Any, net: Any, tappable: np.ndarray, oltc: Any, rating: Any, has_est: bool) -> Any:
    from gridtwin.controllers.voltage import CentralVoltageControl
    from gridtwin.report.voltage_kpis import band_per_bus

    if vc.central is None or not has_est:
        return None
    low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), vc.band_mv_pu, vc.band_lv_pu)
    c = vc.central
    return CentralVoltageControl(
        net,
        vm_min_pu=low,
        vm_max_pu=high,
        margin_pu=c.margin_pu,
        tap_trafos=tappable if oltc is None else np.zeros(0, dtype=np.int64),
        q_limit_pu=c.q_limit_pu,
        cost_curtailment_per_mw=c.cost_curtailment_per_mw,
        cost_q_per_mvar=c.cost_q_per_mvar,
        cost_tap_per_step=c.cost_tap_per_step,
        rating_mva=rating,
    )


class VoltageControl:
    """The ``voltage_control`` section.

    Reads the estimate (or the measurement frame), reported taps, switches
    and lines, metered powers, DER telemetry and (the inverters' own curves)
    the terminal voltages; writes tap, reactive-power and curtailment
    commands. Records ``control``; KPIs (from the truth, by the testbed) in
    section ``voltage``. Summary rows, InfluxDB mapping, dashboard panel:
    :mod:`gridtwin.declarations.voltage`.
    """

    name = "voltage_control"

    def plan(self, wiring: Wiring) -> None:
        from gridtwin.controllers.voltage.controller import VoltageCommands
        from gridtwin.recording.tables import StepTable, dataclass_columns
        from gridtwin.report.voltage_kpis import VoltageKpis, band_per_bus

        vc, net = wiring.scenario.voltage_control, wiring.prepared.net
        low, high = band_per_bus(net.bus["vn_kv"].to_numpy(float), vc.band_mv_pu, vc.band_lv_pu)
        kpis = VoltageKpis(wiring.step_s, low, high)
        wiring.feed(partial(_feed, kpis))
        wiring.sections.append(lambda: {"voltage": kpis.section()})
        if (vc.local is not None or vc.central is not None) and len(net.sgen):
            # the commands' per-sgen set-points (NaN: the profile's Q; inf: no limit)
            columns = dataclass_columns(VoltageCommands, "setpoints")
            table = StepTable(
                "control",
                {name: columns[name] for name in ("q_set_mvar", "p_limit_mw")},
                ("result", "setpoints"),
            )
            wiring.record(table, element_names(net, "sgen"))

    def add(self, wiring: Wiring) -> None:
        from gridtwin.controllers.voltage import VoltageController
        from gridtwin.grid.state import GridState

        scenario, net = wiring.scenario, wiring.prepared.net
        vc = scenario.voltage_control
        if vc.oltc is None and vc.local is None and vc.central is None:
            return  # no control: the KPIs only
        tappable = _tappable(net)
        oltc = _oltc(vc, net, tappable)
        rating = (
            net.sgen["sn_mva"].fillna(net.sgen["p_mw"]).to_numpy(float)
            * scenario.profiles.sgen_scale
            if len(net.sgen)
            else None
        )  # ratings scale with sgen_scale (more DER = more installed inverters)
        local = _local(vc, rating)
        central = _central(vc, net, tappable, oltc, rating, scenario.estimation is not None)
        controller = VoltageController(
            len(net.sgen),
            tappable if (oltc is not None or central is not None) else np.zeros(0, np.int64),
            oltc=oltc,
            local=local,
            central=central,
            central_interval_s=vc.central.interval if vc.central else wiring.step_s,
            step_s=wiring.step_s,
        )
        sim = wiring.world.start(
            "VoltageControl",
            controller=controller,
            known=GridState.from_net(net),
            step_s=wiring.step_s,
            name=self.name,
            **self._regulation(wiring, oltc, tappable),
        )
        entity = wiring.add_function(self.name, sim.VoltageControl())
        wiring.read(entity, "estimate", ("measurement_frame", "frame"), optional=True)
        wiring.read(
            entity,
            ("reported_trafo_tap_pos", "trafo_tap_pos"),
            ("reported_switch_closed", "switch_closed"),
            ("reported_line_in_service", "line_in_service"),
            ("der_available_p_mw", "sgen_available_p_mw"),
            ("metered_load_p_mw", "load_p_mw"),
            ("metered_load_q_mvar", "load_q_mvar"),
            ("metered_sgen_p_mw", "sgen_p_mw"),
            ("metered_sgen_q_mvar", "sgen_q_mvar"),
        )
        wiring.read(entity, "sgen_terminal_vm_pu", field_device=True)
        wiring.read(entity, "switch_orders", optional=True)  # plans on the ordered topology
        wiring.connect(entity, wiring.entities["recorder"], "setpoints")
        if local is not None or central is not None:
            wiring.provide("setpoints", entity)

    @staticmethod
    def _regulation(wiring: Wiring, oltc: Any, tappable: np.ndarray) -> dict[str, Any]:
        """The OLTC's regulated busbar, its measurement scalar and the LDC feeders."""
        from gridtwin.measurements import Terminal, feeder_heads

        net, plan = wiring.prepared.net, wiring.prepared.plan
        trafo = net.trafo
        regulated_bus = (
            int(net.bus.index.get_loc(trafo["lv_bus"].iloc[tappable[0]])) if len(tappable) else -1
        )
        regulated_scalar = -1
        if plan is not None and regulated_bus >= 0:
            bus_name = element_names(net, "bus")[regulated_bus]
            hits = [i for i, n in enumerate(plan.sc_name) if n.endswith(f":vm_pu:{bus_name}")]
            regulated_scalar = hits[0] if hits else -1
        ldc = oltc is not None and bool(oltc.ldc_r_pu or oltc.ldc_x_pu)
        heads, term = feeder_heads(net) if len(net.trafo) else (np.zeros(0, np.int64), [])
        return {
            "regulated_bus": regulated_bus,
            "regulated_scalar": regulated_scalar,
            "feeder_lines": heads if ldc else [],
            "feeder_sign": np.where(np.asarray(term) == Terminal.LINE_FROM, 1.0, -1.0)
            if ldc
            else [],
            "s_base_mva": float(trafo["sn_mva"].iloc[tappable].sum()) if len(tappable) else 1.0,
        }


def _feed(kpis: Any, time_s: int, inputs: Any, write_rows: RowWriter) -> None:
    """The recorder's step: voltage KPIs from the truth (set-points go to ``control``)."""
    result = inputs["result"]
    if result is None:
        return
    tap = inputs["trafo_tap_pos"]
    kpis.add(result, inputs["sgen_available_p_mw"], tap if tap is not None else np.zeros(0))
    commands = inputs["setpoints"]
    if commands is not None and commands.central_ms is not None:
        kpis.decision_ms.append(commands.central_ms)
