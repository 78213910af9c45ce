"""Weighted least squares state estimation with bad-data processing (pure; no mosaik).

:class:`WlsEstimator` runs power-grid-model's Newton-Raphson state estimation
(a WLS estimator) on a model built once per set of available measurements and
topology, and then processes bad data [1]_:

1. chi-square test: the objective ``J = sum((r_i / sigma_i)**2)`` is compared
   with the chi-square quantile at ``confidence`` for ``m - n`` degrees of
   freedom (``m`` measurements including zero-injection constraints, ``n``
   state variables);
2. if it fails, the largest normalized residual ``r_N,i = |r_i| / sqrt(Omega_ii)``
   identifies the culprit, with ``Omega = S R`` the residual covariance and
   ``S_ii`` the residual sensitivity. ``S_ii`` is found exactly (to first
   order) by re-estimating with measurement ``i`` perturbed by one sigma, all
   candidates in one power-grid-model batch;
3. the culprit's channel is removed and the estimate repeated while the test
   fails and ``r_N`` exceeds ``lnr_threshold`` (at most ``max_removals``).

Measurements with ``S_ii < S_MIN`` are critical (their residual is always
near zero) and cannot be identified; they are never removed. At low
redundancy the largest normalized residual may not be identifiable either:
when its residual is correlated with another one with ``|rho| >= RHO_MAX``
(a critical pair: both have the same normalized residual, either may be the
bad one), or when the test fails but no identifiable measurement exceeds the
threshold. The step is then flagged "bad data detected, not identifiable"
(:attr:`Estimate.bad_data_not_identifiable`) and nothing is removed, rather
than removing a good measurement [1]_.

References
----------
.. [1] A. Abur, A. G. Expósito, "Power System State Estimation: Theory and
   Implementation", Marcel Dekker, 2004, ch. 5 (bad data processing).
.. [2] power-grid-model, "State estimation", https://power-grid-model.readthedocs.io
"""

from __future__ import annotations

import time as wallclock
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandapower as pp
from power_grid_model import (
    CalculationMethod,
    ComponentType,
    DatasetType,
    MeasuredTerminalType,
    initialize_array,
)
from scipy.stats import chi2

from gridtwin.controllers.estimation.result import Estimate, Status
from gridtwin.grid.pgm_adapter import PgmAdapter
from gridtwin.grid.pgm_engine import PgmEstimationModel
from gridtwin.grid.topology import busbar_groups
from gridtwin.measurements import ChannelKind, MeasurementFrame, SensorPlan, Terminal

__all__ = [
    "LNR_CANDIDATES",
    "RHO_MAX",
    "S_MIN",
    "Topology",
    "WlsEstimator",
    "active_channels",
    "fallback_pairs",
]

CT = ComponentType
S_MIN = 0.01
"""Smallest residual sensitivity S_ii of an identifiable measurement [-]."""
RHO_MAX = 0.95
"""Residual correlation |rho_ij| from which two measurements cannot be told apart [-]."""
_MT = {
    Terminal.LINE_FROM: MeasuredTerminalType.branch_from,
    Terminal.LINE_TO: MeasuredTerminalType.branch_to,
    Terminal.TRAFO_HV: MeasuredTerminalType.branch_from,
    Terminal.TRAFO_LV: MeasuredTerminalType.branch_to,
    Terminal.LOAD: MeasuredTerminalType.load,
    Terminal.SGEN: MeasuredTerminalType.generator,
}
_CACHE_SIZE = 32
_SE_OUTPUTS = [CT.node, CT.line, CT.sym_voltage_sensor, CT.sym_power_sensor]
_IDLE_SIGMA = 1e3  # [MW, MVAr]: weight 1e-12 of a 1-MW-sigma reading
_LNR_CHUNK = 24
LNR_CANDIDATES = 24
"""Measurements searched for the largest normalized residual: those with the largest
weighted residuals (r_N >= |r|/sigma, so the culprit is nearly always among them)."""


@dataclass(slots=True)
class Topology:
    """The switching state the control centre knows (SCADA status indications)."""

    switch_closed: np.ndarray
    line_in_service: np.ndarray
    trafo_in_service: np.ndarray
    trafo_tap_pos: np.ndarray

    def key(self) -> bytes:
        return b"|".join(
            a.tobytes()
            for a in (
                self.switch_closed,
                self.line_in_service,
                self.trafo_in_service,
                self.trafo_tap_pos,
            )
        )

    @classmethod
    def from_net(cls, net: pp.pandapowerNet) -> Topology:
        tap = net.trafo["tap_pos"].fillna(0).to_numpy(np.int64) if len(net.trafo) else np.zeros(0)
        return cls(
            net.switch["closed"].to_numpy(bool).copy(),
            net.line["in_service"].to_numpy(bool).copy(),
            net.trafo["in_service"].to_numpy(bool).copy(),
            tap.astype(np.int64),
        )


@dataclass(slots=True)
class _Model:
    model: PgmEstimationModel
    v_ch: np.ndarray  # channels of the voltage sensors, in model order
    p_ch: np.ndarray  # channels of the power sensors
    sc: np.ndarray  # scalars used, in residual order: [v mag, v angle?, p, q]
    zero_injection: np.ndarray  # per model node: no appliance (exact zero injection)
    injection_measured: np.ndarray  # per model node: every appliance measured
    n_branch_scalars: int  # P and Q of branch-end sensors
    bus_out: np.ndarray  # per bus: its row in the node output


class WlsEstimator:
    """State estimation on power-grid-model with chi-square and LNR bad-data processing.

    Parameters
    ----------
    net : pandapowerNet
        The normalized network (its parameters are the control centre's model).
    plan : SensorPlan
        The measurement plan whose frames :meth:`estimate` receives.
    confidence : float
        Chi-square test level [-].
    lnr_threshold : float
        Normalized residual above which a measurement is bad [-].
    max_removals : int
        Bad measurements removed per estimate at most.
    lnr_candidates : int
        The largest normalized residual is searched among this many measurements
        with the largest weighted residuals (one power-grid-model batch).
    """

    name = "power-grid-model"

    def __init__(
        self,
        net: pp.pandapowerNet,
        plan: SensorPlan,
        *,
        confidence: float = 0.95,
        lnr_threshold: float = 3.0,
        max_removals: int = 5,
        error_tolerance_pu: float = 1e-7,
        max_iterations: int = 50,
        lnr_candidates: int = LNR_CANDIDATES,
    ) -> None:
        self.plan = plan
        self.confidence = confidence
        self.lnr_threshold = lnr_threshold
        self.max_removals = max_removals
        self.lnr_candidates = lnr_candidates
        self.tol = error_tolerance_pu
        self.max_iter = max_iterations
        self.adapter = PgmAdapter(net)
        ids = self.adapter.ids
        base = {k: v.copy() for k, v in self.adapter.input_data.items()}
        # the estimator sees appliances only through their sensors: drop the helper
        # per-bus generators and the zero-power Z/I parts of loads
        base[CT.sym_gen] = base[CT.sym_gen][~np.isin(base[CT.sym_gen]["id"], ids.bus_gen)]
        base[CT.sym_load] = base[CT.sym_load][~np.isin(base[CT.sym_load]["id"], ids.load[1:])]
        self._base = base
        self.n_bus, self.n_line = len(net.bus), len(net.line)
        self._bus_v_base = self.adapter.bus_v_base_v
        self._line_pos = self.adapter._line_pos
        self._build_sensor_tables()
        self._net = net
        self._models: OrderedDict[bytes, _Model] = OrderedDict()
        self._last: Estimate = Estimate.flat(self.n_bus, self.n_line)
        self._limits: dict[int, float] = {}
        self._method = CalculationMethod.newton_raphson
        self._topology_cache: dict[bytes, tuple] = {}
        self._fallback_pairs = self._pair_fallbacks()

    # --- setup ---------------------------------------------------------------------------

    def _build_sensor_tables(self) -> None:
        plan, ids = self.plan, self.adapter.ids
        n_ch = plan.n_channels
        self._sensor_id = np.arange(n_ch, dtype=np.int32) + 10_000_000
        obj = np.zeros(n_ch, dtype=np.int32)
        v = plan.ch_kind == ChannelKind.VOLTAGE
        obj[v] = ids.node[plan.ch_pos[v]]
        objects = {
            Terminal.LINE_FROM: ids.line,
            Terminal.LINE_TO: ids.line,
            Terminal.TRAFO_HV: ids.trafo,
            Terminal.TRAFO_LV: ids.trafo,
            Terminal.LOAD: ids.load[0] if ids.load.size else ids.load.reshape(-1),
            Terminal.SGEN: ids.sgen,
        }
        term_type = np.zeros(n_ch, dtype=np.int8)
        for t, table in objects.items():
            m = (~v) & (plan.ch_terminal == t)
            if m.any():
                obj[m] = table[plan.ch_pos[m]]
                term_type[m] = _MT[t]
        self._object, self._term_type = obj, term_type
        # scalar index per (channel, component); -1 where absent
        self._sc_of = np.full((n_ch, 2), -1, dtype=np.int64)
        self._sc_of[plan.sc_channel, plan.sc_component] = np.arange(plan.n_scalars)
        # unit conversion per scalar: value in plan units -> PGM units
        ch = plan.sc_channel
        is_v = plan.ch_kind[ch] == ChannelKind.VOLTAGE
        self._to_pgm = self.adapter.measurement_scale(
            is_v, is_v & (plan.sc_component == 1), plan.ch_pos[ch]
        )

    def _pair_fallbacks(self) -> tuple[np.ndarray, np.ndarray]:
        return fallback_pairs(self.plan)

    def active_channels(self, frame: MeasurementFrame) -> np.ndarray:
        """Channels the estimator uses: all scalars valid; fallbacks only where needed."""
        return active_channels(self.plan, frame, self._fallback_pairs)

    def _model_for(self, active: np.ndarray, topology: Topology) -> _Model:
        key = active.tobytes() + topology.key()
        found = self._models.get(key)
        if found is not None:
            self._models.move_to_end(key)
            return found
        plan = self.plan
        v_ch = np.flatnonzero(active & (plan.ch_kind == ChannelKind.VOLTAGE))
        p_ch = np.flatnonzero(active & (plan.ch_kind == ChannelKind.POWER))
        topo_key = topology.key()
        cached = self._topology_cache.get(topo_key)
        if cached is None:
            rep = self._representative_nodes(topology)
            cached = self._topology_cache[topo_key] = (rep, self._fused_base(rep))
            if len(self._topology_cache) > _CACHE_SIZE:
                self._topology_cache.pop(next(iter(self._topology_cache)))
        rep, fused = cached
        data = dict(fused)
        vs = initialize_array(DatasetType.input, CT.sym_voltage_sensor, len(v_ch))
        vs["id"], vs["measured_object"] = self._sensor_id[v_ch], rep[plan.ch_pos[v_ch]]
        vs["u_sigma"], vs["u_measured"] = 1.0, self._bus_v_base[plan.ch_pos[v_ch]]
        ps = initialize_array(DatasetType.input, CT.sym_power_sensor, len(p_ch))
        ps["id"], ps["measured_object"] = self._sensor_id[p_ch], self._object[p_ch]
        ps["measured_terminal_type"] = self._term_type[p_ch]
        ps["p_sigma"] = ps["q_sigma"] = ps["power_sigma"] = 1.0
        ps["p_measured"] = ps["q_measured"] = 0.0
        data[CT.sym_voltage_sensor], data[CT.sym_power_sensor] = vs, ps
        upd = self.adapter.topology_update(topology)
        upd.pop(CT.link, None)
        model = PgmEstimationModel(data, upd)
        sc_v = self._sc_of[v_ch]
        sc_p = self._sc_of[p_ch]
        sc = np.concatenate([sc_v[:, 0], sc_v[:, 1][sc_v[:, 1] >= 0], sc_p[:, 0], sc_p[:, 1]])
        nodes = data[CT.node]["id"]
        bus_out = np.searchsorted(nodes, rep)  # node ids are sorted by the converter
        appliance = np.concatenate(
            [data[CT.sym_load]["node"], data[CT.sym_gen]["node"], data[CT.source]["node"]]
        )
        zero = ~np.isin(nodes, appliance)
        # a node's injection is measured when every appliance on it has a sensor (the
        # sensors are summed into one injection: two scalars, P and Q, per node)
        measured_ids = self._object[p_ch][
            np.isin(plan.ch_terminal[p_ch], (Terminal.LOAD, Terminal.SGEN))
        ]
        app_node = np.concatenate([data[CT.sym_load]["node"], data[CT.sym_gen]["node"]])
        app_id = np.concatenate([data[CT.sym_load]["id"], data[CT.sym_gen]["id"]])
        unmeasured_nodes = np.concatenate(
            [app_node[~np.isin(app_id, measured_ids)], data[CT.source]["node"]]
        )
        inj = ~zero & ~np.isin(nodes, unmeasured_nodes)
        n_branch = 2 * int(
            np.isin(plan.ch_terminal[p_ch], (Terminal.LOAD, Terminal.SGEN), invert=True).sum()
        )
        built = _Model(model, v_ch, p_ch, sc, zero, inj, n_branch, bus_out)
        self._models[key] = built
        if len(self._models) > _CACHE_SIZE:
            self._models.popitem(last=False)
        return built

    def _fused_base(self, rep: np.ndarray) -> dict[ComponentType, np.ndarray]:
        """The base input with busbar sections joined by closed couplers fused into one node."""
        node = self.adapter.ids.node
        remap = np.arange(int(node.max()) + 1)
        remap[node] = rep
        data: dict[ComponentType, np.ndarray] = {}
        for comp, arr in self._base.items():
            if comp == CT.link:
                continue  # closed ones are fused, open ones carry nothing
            arr = arr.copy()
            for col in ("node", "from_node", "to_node"):
                if arr.dtype.names and col in arr.dtype.names:
                    arr[col] = remap[arr[col]]
            data[comp] = arr
        keep = np.isin(data[CT.node]["id"], rep)
        data[CT.node] = data[CT.node][keep]
        return data

    def _representative_nodes(self, topology: Topology) -> np.ndarray:
        """Node id per bus, one id for busbar sections joined by closed couplers.

        A voltage reading on either side of a closed bus-bus switch measures
        the same electrical node; power-grid-model's Newton-Raphson estimator
        needs them on one node (a link between two measured nodes is singular).
        """
        return self.adapter.ids.node[busbar_groups(self._net, topology.switch_closed)]

    # --- per step ------------------------------------------------------------------------

    def estimate(self, frame: MeasurementFrame, topology: Topology) -> Estimate:
        """Estimate the state from ``frame``; never raises, never returns NaN values."""
        t0 = wallclock.perf_counter()
        active = self.active_channels(frame)
        removed: list[str] = []
        detected = unidentifiable = False
        given = frame
        for attempt in range(self.max_removals + 1):
            structure = self._structure(active)
            frame = self._effective(given, structure & ~active)
            m = self._model_for(structure, topology)
            self._write_measurements(m, frame)
            out = self._solve(m)
            if out is None:
                ms = (wallclock.perf_counter() - t0) * 1e3
                return self._last.held(ms)
            w = self._weighted_residuals(m, out, frame)
            objective = float(np.sum(w**2))
            dof = self._dof(m, out)
            limit = self._chi2_limit(dof)
            if attempt == 0:
                detected = objective > limit
            if objective <= limit or attempt == self.max_removals:
                break
            culprit = self._largest_normalized_residual(m, frame, w)
            if culprit < 0:  # detected, but no single measurement can be blamed
                unidentifiable = True
                break
            active = active.copy()
            active[self.plan.sc_channel[culprit]] = False
            removed.append(self.plan.sc_name[culprit])
        assert out is not None  # the loop runs at least once and returns when out is None
        result = self._result(m, out, objective, limit, detected, removed)
        result.bad_data_not_identifiable = unidentifiable
        result.dof = dof
        result.compute_ms = (wallclock.perf_counter() - t0) * 1e3
        self._last = result
        return result

    def _structure(self, active: np.ndarray) -> np.ndarray:
        """Channels in the model: the active ones plus idle partners of meter/pseudo pairs.

        A smart meter and its fallback pseudo-measurement stay in the model together
        while either is active, the idle one with a negligible weight, so that a
        dropout does not force a new model (and observability never depends on it).
        """
        fb, real = self._fallback_pairs
        keep = active.copy()
        keep[fb[active[real]]] = True
        keep[real[active[fb]]] = True
        return keep

    def _effective(self, frame: MeasurementFrame, idle: np.ndarray) -> MeasurementFrame:
        """``frame`` with idle channels at a negligible weight and no NaN values."""
        idle_sc = idle[self.plan.sc_channel]
        if not idle_sc.any():
            return frame
        value = np.where(np.isfinite(frame.value), frame.value, 0.0)
        sigma = np.where(idle_sc, _IDLE_SIGMA, frame.sigma)
        return MeasurementFrame(frame.time_s, value, sigma, frame.valid, frame.corrupted)

    def _solve(self, m: _Model) -> dict | None:
        """Newton-Raphson WLS; if it fails (a gross error can make an iterate singular), the
        iterative linear method, which tolerates it, so that bad-data processing can run.
        None if both fail."""
        attempts = (
            (CalculationMethod.newton_raphson, self.tol, self.max_iter),
            (CalculationMethod.iterative_linear, self.tol, 4 * self.max_iter),
        )
        for method, tol, iters in attempts:
            out = m.model.estimate(
                method=method, error_tolerance_pu=tol, max_iterations=iters, outputs=_SE_OUTPUTS
            )
            if out is None:
                continue
            self._method = method
            return out
        return None

    def _write_measurements(self, m: _Model, frame: MeasurementFrame) -> None:
        upd = self._sensor_update(m, frame.value, frame.sigma)
        m.model.update(upd)

    def _sensor_update(
        self, m: _Model, value: np.ndarray, sigma: np.ndarray
    ) -> dict[ComponentType, np.ndarray]:
        conv = self._to_pgm
        vs = initialize_array(DatasetType.update, CT.sym_voltage_sensor, len(m.v_ch))
        vs["id"] = self._sensor_id[m.v_ch]
        i_mag = self._sc_of[m.v_ch, 0]
        vs["u_measured"] = value[i_mag] * conv[i_mag]
        vs["u_sigma"] = sigma[i_mag] * conv[i_mag]
        i_ang = self._sc_of[m.v_ch, 1]
        has = i_ang >= 0
        vs["u_angle_measured"][has] = value[i_ang[has]] * conv[i_ang[has]]
        ps = initialize_array(DatasetType.update, CT.sym_power_sensor, len(m.p_ch))
        ps["id"] = self._sensor_id[m.p_ch]
        i_p, i_q = self._sc_of[m.p_ch, 0], self._sc_of[m.p_ch, 1]
        ps["p_measured"], ps["q_measured"] = value[i_p] * conv[i_p], value[i_q] * conv[i_q]
        ps["p_sigma"], ps["q_sigma"] = sigma[i_p] * conv[i_p], sigma[i_q] * conv[i_q]
        return {CT.sym_voltage_sensor: vs, CT.sym_power_sensor: ps}

    def _weighted_residuals(
        self, m: _Model, out: dict, frame: MeasurementFrame, batch: int | None = None
    ) -> np.ndarray:
        """``r_i / sigma_i`` for the scalars ``m.sc`` (same order)."""
        vs, ps = out[CT.sym_voltage_sensor], out[CT.sym_power_sensor]
        if batch is not None:
            vs, ps = vs[batch], ps[batch]
        has_angle = self._sc_of[m.v_ch, 1] >= 0
        raw = np.concatenate(
            [
                vs["u_residual"],
                vs["u_angle_residual"][has_angle],
                ps["p_residual"],
                ps["q_residual"],
            ]
        )
        return raw / (frame.sigma[m.sc] * self._to_pgm[m.sc])

    def _chi2_limit(self, dof: int) -> float:
        """The chi-square quantile at ``confidence`` for ``dof`` degrees of freedom (cached)."""
        if dof <= 0:
            return float("inf")  # no redundancy: nothing can be tested
        limit = self._limits.get(dof)
        if limit is None:
            limit = self._limits[dof] = float(chi2.ppf(self.confidence, dof))
        return limit

    def _dof(self, m: _Model, out: dict) -> int:
        """Measurements (with zero-injection constraints) minus state variables."""
        energized = out[CT.node]["energized"].astype(bool)
        n_nodes = int(energized.sum())
        zero = int((m.zero_injection & energized).sum())
        injections = int((m.injection_measured & energized).sum())
        n_voltage = int(len(m.v_ch) + (self._sc_of[m.v_ch, 1] >= 0).sum())
        has_angle = n_voltage > len(m.v_ch)
        n_state = 2 * n_nodes - (0 if has_angle else 1)
        return n_voltage + m.n_branch_scalars + 2 * (injections + zero) - n_state

    def _largest_normalized_residual(
        self, m: _Model, frame: MeasurementFrame, w: np.ndarray
    ) -> int:
        """Scalar with the largest normalized residual above the threshold, else -1.

        -1 also when that residual is not identifiable: correlated with another
        one at ``|rho| >= RHO_MAX`` (see :data:`RHO_MAX`).
        """
        order = np.argsort(-np.abs(w), kind="stable")[: self.lnr_candidates]
        best_row, best_rn, best_col = -1, self.lnr_threshold, np.zeros(0)
        diag: dict[int, float] = {}
        for start in range(0, len(order), _LNR_CHUNK):
            chunk = order[start : start + _LNR_CHUNK]
            if np.abs(w[chunk[0]]) / np.sqrt(S_MIN) <= best_rn:
                break  # no later candidate can beat the best (S_ii >= S_MIN)
            cols = self._sensitivities(m, frame, chunk, w, full=True)
            s = np.abs(cols[np.arange(len(chunk)), chunk])
            diag.update(zip(chunk.tolist(), s.tolist(), strict=True))
            ok = s >= S_MIN
            rn = np.where(ok, np.abs(w[chunk]) / np.sqrt(np.where(ok, s, 1.0)), 0.0)
            k = int(np.argmax(rn))
            if rn[k] > best_rn:
                best_row, best_rn, best_col = int(chunk[k]), float(rn[k]), cols[k]
        if best_row < 0 or self._has_twin(m, frame, w, best_row, best_col, diag):
            return -1
        return int(m.sc[best_row])

    def _has_twin(
        self,
        m: _Model,
        frame: MeasurementFrame,
        w: np.ndarray,
        row: int,
        col: np.ndarray,
        diag: dict[int, float],
    ) -> bool:
        """Whether residual ``row`` is correlated at ``|rho| >= RHO_MAX`` with another one.

        ``col`` is its column of the weighted residual sensitivity matrix
        (``S_ji`` for every ``j``); ``rho_ij = S_ij / sqrt(S_ii S_jj)``.
        The most coupled residuals are checked, their ``S_jj`` computed if unknown.
        """
        coupled = np.argsort(-np.abs(col), kind="stable")
        coupled = coupled[coupled != row][:_LNR_CHUNK]
        unknown = np.array([j for j in coupled.tolist() if j not in diag], dtype=np.int64)
        if unknown.size:
            s = self._sensitivities(m, frame, unknown, w)
            diag.update(zip(unknown.tolist(), s.tolist(), strict=True))
        s_jj = np.array([diag[j] for j in coupled.tolist()])
        ok = s_jj >= S_MIN
        rho = np.abs(col[coupled][ok]) / np.sqrt(diag[row] * s_jj[ok])
        return bool((rho >= RHO_MAX).any())

    def _sensitivities(
        self,
        m: _Model,
        frame: MeasurementFrame,
        rows: np.ndarray,
        w: np.ndarray,
        *,
        full: bool = False,
    ) -> np.ndarray:
        """S_ii of the scalars at residual rows ``rows``, by a one-sigma perturbation batch."""
        n = len(rows)
        angle_of = np.flatnonzero(self._sc_of[m.v_ch, 1] >= 0)
        n_v, n_ang = len(m.v_ch), len(angle_of)
        sc = m.sc[rows]
        base = self._sensor_update(m, frame.value, frame.sigma)
        vs_rows, ps_rows = [], []
        for k, (row, i) in enumerate(zip(rows, sc, strict=True)):
            delta = frame.sigma[i] * self._to_pgm[i]
            if row < n_v + n_ang:
                j = row if row < n_v else int(angle_of[row - n_v])
                rec = base[CT.sym_voltage_sensor][[j]].copy()
                if row < n_v:
                    rec["u_measured"] += delta
                else:
                    rec["u_angle_measured"] += delta
                vs_rows.append((k, rec))
            else:
                j = (row - n_v - n_ang) % len(m.p_ch)
                rec = base[CT.sym_power_sensor][[j]].copy()
                if row - n_v - n_ang < len(m.p_ch):
                    rec["p_measured"] += delta
                else:
                    rec["q_measured"] += delta
                ps_rows.append((k, rec))
        update = {
            CT.sym_voltage_sensor: _sparse(vs_rows, n, CT.sym_voltage_sensor),
            CT.sym_power_sensor: _sparse(ps_rows, n, CT.sym_power_sensor),
        }
        out = m.model.estimate(
            method=self._method,
            error_tolerance_pu=self.tol,
            max_iterations=self.max_iter,
            outputs=[CT.sym_voltage_sensor, CT.sym_power_sensor],
            batch=update,
        )
        if out is None:
            return np.zeros((n, len(m.sc)) if full else n)
        cols = np.stack([self._weighted_residuals(m, out, frame, batch=k) - w for k in range(n)])
        if full:
            return np.nan_to_num(cols)
        # a one-sigma change of measurement i moves its weighted residual by S_ii
        return np.nan_to_num(np.abs(cols[np.arange(n), rows]))

    def residual_covariance(
        self, frame: MeasurementFrame, topology: Topology
    ) -> tuple[np.ndarray, np.ndarray]:
        """Covariance of the weighted residuals for the measurements in ``frame``.

        Returns
        -------
        scalars : ndarray of int
            The scalar measurements used, as positions in the plan.
        cov : ndarray, shape (n, n)
            ``Omega_ij / (sigma_i sigma_j)``; the diagonal is the residual
            sensitivity ``S_ii`` [-]. ``S_ii`` near 0 marks a critical
            measurement, ``|rho_ij|`` near 1 a critical pair (neither can be
            identified) [1]_.
        """
        m = self._model_for(self.active_channels(frame), topology)
        self._write_measurements(m, frame)
        out = self._solve(m)
        if out is None:
            raise ValueError("the measurements do not make the grid observable")
        w = self._weighted_residuals(m, out, frame)
        rows = np.arange(len(m.sc))
        cov = np.concatenate(
            [
                self._sensitivities(m, frame, rows[k : k + 64], w, full=True)
                for k in range(0, len(rows), 64)
            ]
        )
        return m.sc.copy(), cov

    def _result(
        self,
        m: _Model,
        out: dict,
        objective: float,
        limit: float,
        detected: bool,
        removed: list[str],
    ) -> Estimate:
        node = out[CT.node][m.bus_out]
        line = out[CT.line][self._line_pos]
        return Estimate(
            Status.ESTIMATED,
            node["u_pu"].copy(),
            np.degrees(node["u_angle"]),
            self.adapter.branch_flow_mw(line["p_from"]),
            self.adapter.branch_flow_mw(line["q_from"]),
            line["loading"] * 100.0,
            objective=objective,
            chi2_limit=limit,
            bad_data_detected=detected,
            removed=removed,
        )


def fallback_pairs(plan: SensorPlan) -> tuple[np.ndarray, np.ndarray]:
    """(fallback pseudo channel, real channel on the same appliance) pairs."""
    key = plan.ch_terminal.astype(np.int64) * 10_000_000 + plan.ch_pos
    fb = np.flatnonzero(plan.ch_fallback_only)
    real = np.flatnonzero(~plan.ch_fallback_only & (plan.ch_kind == ChannelKind.POWER))
    pairs = [(f, r) for f in fb for r in real[key[real] == key[f]]]
    if not pairs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.asarray(pairs, dtype=np.int64)
    return a[:, 0], a[:, 1]


def active_channels(
    plan: SensorPlan, frame: MeasurementFrame, pairs: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Channels an estimator uses: every scalar valid; pseudo fallbacks only for
    appliances whose real meter is missing in this frame."""
    invalid = np.bincount(plan.sc_channel[~frame.valid], minlength=plan.n_channels)
    ok = invalid == 0
    real_ok = ok & ~plan.ch_fallback_only
    fb, real = pairs
    covered = np.zeros(plan.n_channels, dtype=bool)
    covered[fb[real_ok[real]]] = True
    return ok & ~(plan.ch_fallback_only & covered)


def _sparse(rows: list[tuple[int, np.ndarray]], n: int, component: ComponentType) -> dict:
    """A sparse power-grid-model batch with at most one record per scenario."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    data = initialize_array(DatasetType.update, component, len(rows))
    for j, (k, rec) in enumerate(rows):
        data[j] = rec[0]
        indptr[k + 1] = 1
    return {"data": data, "indptr": np.cumsum(indptr)}
