"""The reference estimator: pandapower's WLS state estimation on the same measurements.

Same interface as :class:`~gridtwin.controllers.estimation.wls.WlsEstimator`.
Appliance meters are summed per bus into bus injection measurements (load
reference: consumption positive, as pandapower's ``res_bus``), with their
variances added; zero-injection buses are found by pandapower
(``zero_injection='auto'``). Bad data: the same chi-square test on the
weighted residuals, then pandapower's own largest-normalized-residual removal
(:func:`pandapower.estimation.remove_bad_data`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import time as wallclock
import warnings

import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.estimation import estimate, remove_bad_data
from scipy.stats import chi2

from gridtwin.controllers.estimation.result import Estimate, Status
from gridtwin.controllers.estimation.wls import Topology, active_channels, fallback_pairs
from gridtwin.grid.topology import busbar_groups
from gridtwin.quiet import quiet_logger
from gridtwin.simulators.sensors import ChannelKind, MeasurementFrame, SensorPlan, Terminal

__all__ = ["PandapowerEstimator"]

_SIDE = {
    Terminal.LINE_FROM: ("line", "from"),
    Terminal.LINE_TO: ("line", "to"),
    Terminal.TRAFO_HV: ("trafo", "hv"),
    Terminal.TRAFO_LV: ("trafo", "lv"),
}
_APPLIANCE_SIGN = {Terminal.LOAD: 1.0, Terminal.SGEN: -1.0}  # to load reference


def _zero_injection_buses(net: pp.pandapowerNet) -> tuple[list[int], np.ndarray]:
    """Buses (labels) whose busbar group has no appliance, and the group of each bus."""
    group = busbar_groups(net, net.switch["closed"].to_numpy(bool))
    labels = np.concatenate(
        [net[t]["bus"].to_numpy() for t in ("load", "sgen", "storage", "ext_grid") if len(net[t])]
    )
    has = np.zeros(len(net.bus), dtype=bool)
    has[group[net.bus.index.get_indexer(labels)]] = True
    return [int(x) for x in net.bus.index[~has[group]]], group


class PandapowerEstimator:
    """pandapower WLS with chi-square test and pandapower's LNR removal."""

    name = "pandapower"

    def __init__(
        self,
        net: pp.pandapowerNet,
        plan: SensorPlan,
        *,
        confidence: float = 0.95,
        lnr_threshold: float = 3.0,
        max_removals: int = 5,
    ) -> None:
        self.net = copy.deepcopy(net)
        self.plan = plan
        self.confidence = confidence
        self.lnr_threshold = lnr_threshold
        self.max_removals = max_removals
        self._pairs = fallback_pairs(plan)
        self._last = Estimate.flat(len(net.bus), len(net.line))
        self._zero_buses, self._group = _zero_injection_buses(net)
        self._n_groups = len(np.unique(self._group))
        self._n_zero_groups = len(
            np.unique(self._group[net.bus.index.get_indexer(self._zero_buses)])
        )

    def measurements(self, frame: MeasurementFrame) -> pd.DataFrame:
        """The pandapower measurement table for the channels in use."""
        plan, net = self.plan, self.net
        use = active_channels(plan, frame, self._pairs)
        rows: list[dict] = []
        sc = plan.sc_channel
        for i in np.flatnonzero(use[sc]):
            c = sc[i]
            kind, term, pos, comp = (
                plan.ch_kind[c],
                plan.ch_terminal[c],
                plan.ch_pos[c],
                plan.sc_component[i],
            )
            value, sigma = float(frame.value[i]), float(frame.sigma[i])
            if kind == ChannelKind.VOLTAGE:
                rows.append(
                    {
                        "measurement_type": "v" if comp == 0 else "va",
                        "element_type": "bus",
                        "element": int(net.bus.index[pos]),
                        "value": value,
                        "std_dev": sigma,
                        "side": None,
                    }
                )
            elif term in _SIDE:
                table, side = _SIDE[Terminal(term)]
                rows.append(
                    {
                        "measurement_type": "p" if comp == 0 else "q",
                        "element_type": table,
                        "element": int(net[table].index[pos]),
                        "value": value,
                        "std_dev": sigma,
                        "side": side,
                    }
                )
            else:
                table = "load" if term == Terminal.LOAD else "sgen"
                bus = int(net[table]["bus"].iloc[pos])
                rows.append(
                    {
                        "measurement_type": "p" if comp == 0 else "q",
                        "element_type": "bus",
                        "element": bus,
                        "value": _APPLIANCE_SIGN[Terminal(term)] * value,
                        "std_dev": sigma,
                        "side": None,
                        "_sum": True,
                    }
                )
        frame_df = pd.DataFrame(rows)
        if frame_df.empty:
            return frame_df
        is_sum = frame_df["_sum"].eq(True) if "_sum" in frame_df else frame_df["value"].isna()
        summed = frame_df[is_sum]
        rest = frame_df[~is_sum].drop(columns=["_sum"], errors="ignore")
        if len(summed):
            agg = (
                summed.groupby(["measurement_type", "element"], sort=True)
                .agg(value=("value", "sum"), var=("std_dev", lambda s: float(np.sum(np.square(s)))))
                .reset_index()
            )
            agg["std_dev"] = np.sqrt(agg.pop("var"))
            agg["element_type"], agg["side"] = "bus", None
            rest = pd.concat([rest, agg[rest.columns]], ignore_index=True)
        return rest

    def estimate(self, frame: MeasurementFrame, topology: Topology) -> Estimate:
        """Estimate with pandapower; never raises, never returns NaN values."""
        with quiet_logger("pandapower"):
            return self._estimate(frame, topology)

    def _estimate(self, frame: MeasurementFrame, topology: Topology) -> Estimate:
        t0 = wallclock.perf_counter()
        net = self.net
        net.switch["closed"] = topology.switch_closed
        net.line["in_service"] = topology.line_in_service
        if len(net.trafo):
            net.trafo["tap_pos"] = topology.trafo_tap_pos
        meas = self.measurements(frame)
        table = pd.DataFrame(
            {
                "name": None,
                "measurement_type": meas["measurement_type"].astype(object),
                "element_type": meas["element_type"].astype(object),
                "element": meas["element"].astype(np.uint32),
                "value": meas["value"].astype(float),
                "std_dev": meas["std_dev"].astype(float),
                "side": meas["side"].astype(object),
            }
        )
        net.measurement = table
        ok = self._run(estimate, zero_injection=self._zero_buses)
        if not ok:
            return self._last.held((wallclock.perf_counter() - t0) * 1e3)
        objective, dof = self._objective()
        limit = float(chi2.ppf(self.confidence, dof)) if dof > 0 else float("inf")
        detected = objective > limit
        removed: list[str] = []
        if detected and self.max_removals:
            before = net.measurement.copy()
            if self._run(remove_bad_data, rn_max_threshold=self.lnr_threshold):
                gone = before.index.difference(net.measurement.index)
                removed = [
                    f"{before.at[g, 'measurement_type']}:{before.at[g, 'element_type']} "
                    f"{before.at[g, 'element']}"
                    for g in gone
                ]
                objective, dof = self._objective()
                limit = float(chi2.ppf(self.confidence, dof)) if dof > 0 else float("inf")
        res = net.res_bus_est
        line = net.res_line_est
        result = Estimate(
            Status.ESTIMATED,
            res["vm_pu"].to_numpy(float).copy(),
            res["va_degree"].to_numpy(float).copy(),
            line["p_from_mw"].to_numpy(float).copy(),
            line["q_from_mvar"].to_numpy(float).copy(),
            line["loading_percent"].to_numpy(float).copy()
            if "loading_percent" in line
            else np.zeros(len(line)),
            objective=objective,
            chi2_limit=limit,
            dof=dof,
            bad_data_detected=detected,
            removed=removed,
        )
        result.compute_ms = (wallclock.perf_counter() - t0) * 1e3
        self._last = result
        return result

    def _run(self, func, **kwargs) -> bool:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            try:
                return bool(func(self.net, init="flat", **kwargs))
            except Exception:  # pandapower raises assorted errors for unobservable sets
                return False

    def _objective(self) -> tuple[float, int]:
        """Weighted sum of squared residuals and degrees of freedom of the last estimate."""
        net = self.net
        m = net.measurement
        est = np.empty(len(m))
        for k, row in enumerate(m.itertuples(index=False)):
            est[k] = self._estimated(row)
        w = (m["value"].to_numpy(float) - est) / m["std_dev"].to_numpy(float)
        has_angle = bool((m["measurement_type"] == "va").any())
        n_bus_meas = m[(m["element_type"] == "bus") & m["measurement_type"].isin(["p", "q"])]
        fused = self._group[net.bus.index.get_indexer(n_bus_meas["element"])]
        n_inj = len(set(zip(n_bus_meas["measurement_type"], fused, strict=True)))
        n_other = len(m) - len(n_bus_meas)
        m_total = n_other + n_inj + 2 * self._n_zero_groups
        return float(np.sum(w**2)), m_total - (2 * self._n_groups - (0 if has_angle else 1))

    def _estimated(self, row) -> float:
        net = self.net
        mt, et, el, side = row.measurement_type, row.element_type, row.element, row.side
        if et == "bus":
            col = {"v": "vm_pu", "va": "va_degree", "p": "p_mw", "q": "q_mvar"}[mt]
            return float(net.res_bus_est.at[el, col])
        if et == "line":
            return float(net.res_line_est.at[el, f"{mt}_{side}_{'mw' if mt == 'p' else 'mvar'}"])
        return float(net.res_trafo_est.at[el, f"{mt}_{side}_{'mw' if mt == 'p' else 'mvar'}"])
