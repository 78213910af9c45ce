"""The one place where pandapower (MW, kV, degrees) meets power-grid-model (W, V, radians).

:class:`PgmAdapter` converts a pandapower net to power-grid-model input once
(with ``power_grid_model_io``'s ``PandaPowerConverter``), adds what that
converter leaves out (storage units, one injection per bus for external
components), and then translates each step's :class:`~gridtwin.grid.state.GridState`
into an update dataset and each power-flow output back into a
:class:`~gridtwin.grid.engine.PowerFlowResult`.

The external grid is an ideal slack (``sk`` very large) so that both engines
solve the same equations; pandapower's reference runs use ``trafo_model='pi'``
for the same reason (power-grid-model's transformer is a pi model).
"""

from __future__ import annotations

import contextlib
import copy
import io
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandapower as pp
import pandas as pd
from power_grid_model import ComponentType, DatasetType, LoadGenType, initialize_array

from gridtwin.grid.engine import (
    ELEMENT_COLUMNS,
    BatchResult,
    BatchUpdate,
    PowerFlowResult,
    line_unrated,
    table_sizes,
)
from gridtwin.grid.state import Injections
from gridtwin.grid.topology import SwitchMap
from gridtwin.quiet import quiet_logger

__all__ = ["MW_TO_W", "PgmAdapter"]

_KV_TO_V = 1e3

MW_TO_W = 1e6
"""W per MW (and var per Mvar)."""
_KA_PER_A = 1e-3
_IDEAL_SLACK_SK_VA = 1e15

CT = ComponentType


def _load_fractions(net: pp.pandapowerNet) -> np.ndarray:
    """Shares of each load that are constant power, impedance and current.

    Returns
    -------
    ndarray, shape (3, 2, n_load)
        ``[kind, p_or_q, load]`` with kind 0 = const power, 1 = const
        impedance, 2 = const current [-].
    """
    load = net.load
    n = len(load)

    def pct(*names: str) -> np.ndarray:
        for name in names:
            if name in load:
                return load[name].fillna(0).to_numpy(dtype=float) / 100.0
        return np.zeros(n)

    z_p, i_p = (
        pct("const_z_p_percent", "const_z_percent"),
        pct("const_i_p_percent", "const_i_percent"),
    )
    z_q, i_q = (
        pct("const_z_q_percent", "const_z_percent"),
        pct("const_i_q_percent", "const_i_percent"),
    )
    out = np.empty((3, 2, n))
    out[0, 0], out[0, 1] = 1 - z_p - i_p, 1 - z_q - i_q
    out[1, 0], out[1, 1] = z_p, z_q
    out[2, 0], out[2, 1] = i_p, i_q
    return out


@dataclass(slots=True)
class _Ids:
    node: np.ndarray
    line: np.ndarray
    trafo: np.ndarray
    load: np.ndarray  # shape (3, n_load): const power, impedance, current
    sgen: np.ndarray
    storage: np.ndarray
    bus_gen: np.ndarray
    link: np.ndarray  # per bus-bus switch
    source: np.ndarray


class SwitchingState(Protocol):
    """What :meth:`PgmAdapter.topology_update` reads: a :class:`GridState` or the
    estimator's known topology (arrays in pandapower row order)."""

    @property
    def switch_closed(self) -> np.ndarray: ...
    @property
    def line_in_service(self) -> np.ndarray: ...
    @property
    def trafo_in_service(self) -> np.ndarray: ...
    @property
    def trafo_tap_pos(self) -> np.ndarray: ...


class PgmAdapter:
    """Converts between a pandapower net and a power-grid-model dataset.

    Parameters
    ----------
    net : pandapowerNet
        A net normalized by :func:`gridtwin.grid.sources.normalize_net`.
    """

    def __init__(self, net: pp.pandapowerNet) -> None:
        self.sizes = table_sizes(net)
        self.switches = SwitchMap.from_net(net)
        self._fractions = _load_fractions(net)
        self.line_unrated = line_unrated(net)  # loading NaN: no real rating
        self.input_data, self.ids = self._convert(net)
        self._sym_load_ids = np.concatenate([self.ids.load.ravel(), self.ids.storage])
        self._sym_gen_ids = np.concatenate([self.ids.sgen, self.ids.bus_gen])
        self._load_update = initialize_array(
            DatasetType.update, CT.sym_load, len(self._sym_load_ids)
        )
        self._load_update["id"] = self._sym_load_ids
        self._gen_update = initialize_array(DatasetType.update, CT.sym_gen, len(self._sym_gen_ids))
        self._gen_update["id"] = self._sym_gen_ids
        self._node_pos = self._positions(CT.node, self.ids.node)
        self._line_pos = self._positions(CT.line, self.ids.line)
        self._trafo_pos = self._positions(CT.transformer, self.ids.trafo)
        self._load_pos = self._positions(CT.sym_load, self.ids.load.ravel()).reshape(
            self.ids.load.shape
        )
        self._storage_pos = self._positions(CT.sym_load, self.ids.storage)
        self._sgen_pos = self._positions(CT.sym_gen, self.ids.sgen)
        self._source_pos = self._positions(CT.source, self.ids.source)
        self._bus_of_load = net.bus.index.get_indexer(net.load["bus"])
        self._bus_of_sgen = net.bus.index.get_indexer(net.sgen["bus"])
        self._bus_of_storage = net.bus.index.get_indexer(net.storage["bus"])
        self.constant_power_only = bool(np.allclose(self._fractions[0], 1.0))
        self.bus_v_base_v = net.bus["vn_kv"].to_numpy(float) * _KV_TO_V
        """Nominal voltage per bus [V]."""
        self.last_injections: Injections | None = None

    # --- conversion, once ---------------------------------------------------------------

    def _convert(self, net: pp.pandapowerNet) -> tuple[dict, _Ids]:
        from power_grid_model_io.converters import PandaPowerConverter

        base = copy.deepcopy(net)
        storage = base.storage.copy()
        base.storage = base.storage.iloc[0:0]
        converter = PandaPowerConverter()
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            quiet_logger("power_grid_model_io"),
        ):
            warnings.simplefilter("ignore")
            data, _extra = converter.load_input_data(base, make_extra_info=False)
        data = {CT(k): v for k, v in data.items()}
        idx = converter.idx

        def ids(key: tuple[str, str | None], index: pd.Index) -> np.ndarray:
            if key not in idx:
                return np.zeros(0, dtype=np.int32)
            return idx[key].loc[index].to_numpy(dtype=np.int32)

        load_ids = (
            np.stack(
                [
                    ids(("load", k), net.load.index)
                    for k in ("const_power", "const_impedance", "const_current")
                ]
            )
            if len(net.load)
            else np.zeros((3, 0), dtype=np.int32)
        )
        b2b = net.switch.index[net.switch["et"].to_numpy() == "b"]
        next_id = int(max(int(v.max()) for v in idx.values() if len(v)) + 1)

        node_ids = ids(("bus", None), net.bus.index)
        # storage: one constant-power sym_load each (charging positive, as in pandapower)
        st = initialize_array(DatasetType.input, CT.sym_load, len(storage))
        st["id"] = np.arange(next_id, next_id + len(storage))
        next_id += len(storage)
        st["node"] = node_ids[net.bus.index.get_indexer(storage["bus"])] if len(storage) else []
        st["status"] = storage["in_service"].to_numpy(dtype=int) if len(storage) else []
        st["type"] = LoadGenType.const_power
        st["p_specified"] = 0.0
        st["q_specified"] = 0.0
        # one sym_gen per bus for injections from external (mosaik) components
        bg = initialize_array(DatasetType.input, CT.sym_gen, len(net.bus))
        bg["id"] = np.arange(next_id, next_id + len(net.bus))
        bg["node"] = node_ids
        bg["status"] = 1
        bg["type"] = LoadGenType.const_power
        bg["p_specified"] = 0.0
        bg["q_specified"] = 0.0
        data[CT.sym_load] = np.concatenate([data.get(CT.sym_load, st[:0]), st])
        data[CT.sym_gen] = np.concatenate([data.get(CT.sym_gen, bg[:0]), bg])
        if CT.source in data:
            data[CT.source]["sk"] = _IDEAL_SLACK_SK_VA
        return data, _Ids(
            node=node_ids,
            line=ids(("line", None), net.line.index),
            trafo=ids(("trafo", None), net.trafo.index),
            load=load_ids,
            sgen=ids(("sgen", None), net.sgen.index),
            storage=st["id"].astype(np.int32),
            bus_gen=bg["id"].astype(np.int32),
            link=ids(("switch", "b2b_switches"), b2b),
            source=ids(("ext_grid", None), net.ext_grid.index),
        )

    def _positions(self, component: ComponentType, wanted: np.ndarray) -> np.ndarray:
        have = self.input_data[component]["id"] if component in self.input_data else np.zeros(0)
        order = np.argsort(have)
        return (
            order[np.searchsorted(have, wanted, sorter=order)]
            if len(wanted)
            else (np.zeros(0, dtype=np.int64))
        )

    # --- per step: state -> update dataset (MW -> W) ----------------------------------

    def power_update(self, inj: Injections) -> dict[ComponentType, np.ndarray]:
        """Update arrays for loads, storage, sgens and bus injections [W, var]."""
        frac = self._fractions
        n_load = frac.shape[2]
        p = np.empty(len(self._sym_load_ids))
        q = np.empty(len(self._sym_load_ids))
        p[: 3 * n_load] = (frac[:, 0, :] * inj.load_p_mw).ravel()
        q[: 3 * n_load] = (frac[:, 1, :] * inj.load_q_mvar).ravel()
        p[3 * n_load :] = inj.storage_p_mw
        q[3 * n_load :] = inj.storage_q_mvar
        self._load_update["p_specified"] = p * MW_TO_W
        self._load_update["q_specified"] = q * MW_TO_W
        self._gen_update["p_specified"] = (
            np.concatenate([inj.sgen_p_mw, inj.bus_p_inj_mw]) * MW_TO_W
        )
        self._gen_update["q_specified"] = (
            np.concatenate([inj.sgen_q_mvar, inj.bus_q_inj_mvar]) * MW_TO_W
        )
        self.last_injections = inj
        return {CT.sym_load: self._load_update, CT.sym_gen: self._gen_update}

    def topology_update(self, state: SwitchingState) -> dict[ComponentType, np.ndarray]:
        """Update arrays for branch statuses (from switches and outages) and taps."""
        out: dict[ComponentType, np.ndarray] = {}
        f, t = self.switches.line_status(state.switch_closed, state.line_in_service)
        line = initialize_array(DatasetType.update, CT.line, len(self.ids.line))
        line["id"], line["from_status"], line["to_status"] = self.ids.line, f, t
        out[CT.line] = line
        if len(self.ids.trafo):
            hv, lv = self.switches.trafo_status(state.switch_closed, state.trafo_in_service)
            tr = initialize_array(DatasetType.update, CT.transformer, len(self.ids.trafo))
            tr["id"], tr["from_status"], tr["to_status"] = self.ids.trafo, hv, lv
            tr["tap_pos"] = state.trafo_tap_pos
            out[CT.transformer] = tr
        if len(self.ids.link):
            closed = state.switch_closed[self.switches.bus_bus_sw]
            link = initialize_array(DatasetType.update, CT.link, len(self.ids.link))
            link["id"], link["from_status"], link["to_status"] = self.ids.link, closed, closed
            out[CT.link] = link
        return out

    # --- per step: output -> result (W -> MW) ------------------------------------------

    def result(self, out: dict) -> PowerFlowResult:
        """Convert a power-grid-model output dataset to a :class:`PowerFlowResult`."""
        node = _Rows(out[CT.node], self._node_pos)
        line = _Rows(out[CT.line], self._line_pos)
        trafo = _Rows(out[CT.transformer], self._trafo_pos) if len(self._trafo_pos) else None
        source = _Rows(out[CT.source], self._source_pos)
        energized = node["energized"].astype(bool)
        if CT.sym_load in out:
            loads, gens = out[CT.sym_load], out[CT.sym_gen]
            load_p = loads["p"][self._load_pos].sum(axis=0) / MW_TO_W
            load_q = loads["q"][self._load_pos].sum(axis=0) / MW_TO_W
            sgen_p = gens["p"][self._sgen_pos] / MW_TO_W
            sgen_q = gens["q"][self._sgen_pos] / MW_TO_W
            storage_p = loads["p"][self._storage_pos] / MW_TO_W
        else:  # constant-power appliances deliver their set-point wherever energized
            inj = self.last_injections
            assert inj is not None
            on_load = energized[self._bus_of_load]
            on_sgen = energized[self._bus_of_sgen]
            load_p, load_q = inj.load_p_mw * on_load, inj.load_q_mvar * on_load
            sgen_p, sgen_q = inj.sgen_p_mw * on_sgen, inj.sgen_q_mvar * on_sgen
            storage_p = inj.storage_p_mw * energized[self._bus_of_storage]
        line_loss = line["p_from"] + line["p_to"]
        trafo_loss = (trafo["p_from"] + trafo["p_to"]) if trafo is not None else np.zeros(0)
        values: dict[str, Any] = {
            "converged": True,
            "bus_vm_pu": node["u_pu"].copy(),
            "bus_va_degree": np.degrees(node["u_angle"]),
            "bus_p_mw": -node["p"] / MW_TO_W,
            "bus_q_mvar": -node["q"] / MW_TO_W,
            "bus_energized": energized,
            "load_p_mw": load_p,
            "load_q_mvar": load_q,
            "sgen_p_mw": sgen_p,
            "sgen_q_mvar": sgen_q,
            "storage_p_mw": storage_p,
            "ext_grid_p_mw": source["p"] / MW_TO_W,
            "ext_grid_q_mvar": source["q"] / MW_TO_W,
            "losses_mw": float(line_loss.sum() + trafo_loss.sum()) / MW_TO_W,
        }
        values.update(_branch_values("line", line))
        values.update(_branch_values("trafo", trafo))
        values["line_loading_percent"] = np.where(  # no real rating: n/a
            self.line_unrated, np.nan, values["line_loading_percent"]
        )
        return PowerFlowResult(**values)

    # --- batches: per-scenario changes (MW -> W) and outputs (W -> MW) ---------------

    def batch_update(
        self, base: Injections, update: BatchUpdate
    ) -> dict[ComponentType, np.ndarray]:
        """Batch update arrays for ``update``'s scenarios; powers not given are ``base``'s."""
        n = update.n
        out: dict[ComponentType, np.ndarray] = {}
        if update.line_pos is not None and update.line_connected is not None:
            line = initialize_array(DatasetType.update, CT.line, (n, len(update.line_pos)))
            line["id"] = self.ids.line[update.line_pos]
            status = np.asarray(update.line_connected, dtype=np.int8)
            line["from_status"], line["to_status"] = status, status
            out[CT.line] = line
        if update.trafo_tap_pos is not None:
            tr = initialize_array(DatasetType.update, CT.transformer, (n, len(self.ids.trafo)))
            tr["id"] = self.ids.trafo
            tr["tap_pos"] = update.trafo_tap_pos
            out[CT.transformer] = tr
        loads = (update.load_p_mw, update.load_q_mvar)
        if any(x is not None for x in loads):
            lp = _rows(update.load_p_mw, base.load_p_mw, n)
            lq = _rows(update.load_q_mvar, base.load_q_mvar, n)
            frac = self._fractions
            load = initialize_array(DatasetType.update, CT.sym_load, (n, len(self._sym_load_ids)))
            load["id"] = self._sym_load_ids
            k = 3 * frac.shape[2]
            load["p_specified"][:, :k] = (frac[None, :, 0, :] * lp[:, None, :]).reshape(n, k)
            load["q_specified"][:, :k] = (frac[None, :, 1, :] * lq[:, None, :]).reshape(n, k)
            load["p_specified"][:, k:] = base.storage_p_mw
            load["q_specified"][:, k:] = base.storage_q_mvar
            load["p_specified"] *= MW_TO_W
            load["q_specified"] *= MW_TO_W
            out[CT.sym_load] = load
        gens = (update.sgen_p_mw, update.sgen_q_mvar, update.bus_p_inj_mw, update.bus_q_inj_mvar)
        if any(x is not None for x in gens):
            gen = initialize_array(DatasetType.update, CT.sym_gen, (n, len(self._sym_gen_ids)))
            gen["id"] = self._sym_gen_ids
            ns = len(self.ids.sgen)
            gen["p_specified"][:, :ns] = _rows(update.sgen_p_mw, base.sgen_p_mw, n)
            gen["q_specified"][:, :ns] = _rows(update.sgen_q_mvar, base.sgen_q_mvar, n)
            gen["p_specified"][:, ns:] = _rows(update.bus_p_inj_mw, base.bus_p_inj_mw, n)
            gen["q_specified"][:, ns:] = _rows(update.bus_q_inj_mvar, base.bus_q_inj_mvar, n)
            gen["p_specified"] *= MW_TO_W
            gen["q_specified"] *= MW_TO_W
            out[CT.sym_gen] = gen
        return out

    def batch_outputs(self, branches: bool) -> dict[ComponentType, list[str]]:
        """The output attributes :meth:`batch_result` reads."""
        outputs: dict[ComponentType, list[str]] = {CT.node: ["u_pu", "energized"]}
        if branches:
            outputs[CT.line] = ["p_from", "p_to", "loading"]
            if len(self.ids.trafo):
                outputs[CT.transformer] = ["p_from", "p_to", "loading"]
        return outputs

    def batch_result(self, out: dict, converged: np.ndarray, branches: bool) -> BatchResult:
        """Convert a (batch) power-flow output to a :class:`BatchResult`; bad rows NaN."""
        with np.errstate(all="ignore"):  # failed scenarios hold garbage, masked below
            return self._batch_result(out, converged, branches)

    def _batch_result(self, out: dict, converged: np.ndarray, branches: bool) -> BatchResult:
        b = len(converged)

        def col(component: ComponentType, attr: str, pos: np.ndarray) -> np.ndarray:
            return np.atleast_2d(out[component][attr])[:, pos]

        energized = col(CT.node, "energized", self._node_pos).astype(bool)
        vm = col(CT.node, "u_pu", self._node_pos).astype(float)
        n_line, n_trafo = len(self._line_pos), len(self._trafo_pos)
        if branches:
            lpos = self._line_pos
            losses = (col(CT.line, "p_from", lpos) + col(CT.line, "p_to", lpos)).sum(axis=1)
            line_loading = col(CT.line, "loading", lpos) * 100.0
            if n_trafo:
                tpos = self._trafo_pos
                losses = losses + (
                    col(CT.transformer, "p_from", tpos) + col(CT.transformer, "p_to", tpos)
                ).sum(axis=1)
                trafo_loading = col(CT.transformer, "loading", tpos) * 100.0
            else:
                trafo_loading = np.zeros((b, 0))
            losses = losses / MW_TO_W
        else:
            losses = np.full(b, np.nan)
            line_loading = np.full((b, n_line), np.nan)
            trafo_loading = np.full((b, n_trafo), np.nan)
        if branches:
            line_loading[:, self.line_unrated] = np.nan  # no real rating: n/a
        bad = ~converged
        vm[bad] = np.nan
        energized[bad] = False
        line_loading[bad] = np.nan
        trafo_loading[bad] = np.nan
        losses = np.where(bad, np.nan, losses)
        return BatchResult(converged, vm, energized, line_loading, trafo_loading, losses)

    # --- state estimation: measurement units (pu, degree, MW) <-> W, V, radians --------

    def measurement_scale(
        self, is_voltage: np.ndarray, is_angle: np.ndarray, bus_pos: np.ndarray
    ) -> np.ndarray:
        """Factor per scalar from the plan's unit to power-grid-model's.

        Voltage magnitudes [pu] -> [V] (the bus's nominal voltage), angles
        [degree] -> [rad], powers [MW, MVAr] -> [W, var].
        """
        scale = np.full(len(is_voltage), MW_TO_W)
        mag = is_voltage & ~is_angle
        scale[mag] = self.bus_v_base_v[bus_pos[mag]]
        scale[is_voltage & is_angle] = np.pi / 180.0
        return scale

    @staticmethod
    def branch_flow_mw(values_w: np.ndarray) -> np.ndarray:
        """A branch power from power-grid-model's [W, var] to [MW, MVAr]."""
        return values_w / MW_TO_W


def _from_pgm(values: np.ndarray, unit: str) -> np.ndarray:
    """A power-grid-model output in gridtwin's ``unit`` (a field name's suffix)."""
    if unit in ("mw", "mvar"):
        return values / MW_TO_W
    if unit == "ka":
        return values * _KA_PER_A
    if unit == "percent":
        return values * 100.0
    raise ValueError(f"no conversion to {unit!r}")


class _Rows:
    """The rows ``pos`` of a structured output array, one field at a time.

    Reading a field before the rows copies only that field (indexing the
    structured array first copies every field); identity positions are not
    indexed at all (a view: callers compute new arrays from it). The values
    are those of ``out[pos][field]``.
    """

    __slots__ = ("out", "pos")

    def __init__(self, out: np.ndarray, pos: np.ndarray) -> None:
        identity = len(pos) == len(out) and bool((pos == np.arange(len(pos))).all())
        self.out, self.pos = out, None if identity else pos

    def __getitem__(self, field: str) -> np.ndarray:
        values = self.out[field]
        return values if self.pos is None else values[self.pos]


def _branch_values(table: str, out: Any) -> dict[str, np.ndarray]:
    """The :class:`PowerFlowResult` fields of ``table`` (line or trafo) from its output.

    A field ``<table>_<quantity>_<end>_<unit>`` reads power-grid-model's
    ``<quantity>_<from|to>`` (hv = from, lv = to); ``<table>_loading_percent``
    reads ``loading``.
    """
    values: dict[str, np.ndarray] = {}
    for column, name in ELEMENT_COLUMNS[table].items():
        quantity, _, unit = column.rpartition("_")
        attr = quantity.replace("_hv", "_from").replace("_lv", "_to")
        values[name] = _from_pgm(out[attr], unit) if out is not None else np.zeros(0)
    return values


def _rows(given: np.ndarray | None, base: np.ndarray, n: int) -> np.ndarray:
    """``given`` as (n, k) rows, or ``base`` repeated n times."""
    if given is None:
        return np.broadcast_to(base, (n, len(base)))
    return np.asarray(given, dtype=float).reshape(n, -1)
