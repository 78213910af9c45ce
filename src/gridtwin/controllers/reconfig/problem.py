"""The reconfiguration problem: which lines can switch, what a radial supply is, the limits.

A *configuration* is a boolean array ``closed`` over the switchable lines
(:attr:`Problem.line_pos`), one entry per line, True = the line carries
current. Everything that cannot switch (lines without a line switch,
transformers, bus-bus switches) keeps the state the net gives it.

Radiality is judged on a contracted graph: buses joined by fixed closed
branches form one *node*; all nodes holding an external grid form the root
node 0. A configuration is radial and supplies every load when its closed
switchable lines form a spanning tree of the nodes. Meshes inside the fixed
part (parallel transformers, a closed busbar coupler) are not the optimizer's
business and are allowed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandapower as pp
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridtwin.controllers.reconfig.flow import BatchFlow
from gridtwin.controllers.reconfig.periods import Periods
from gridtwin.errors import InputError
from gridtwin.grid.sources import normalize_net
from gridtwin.grid.topology import SwitchMap, element_names

__all__ = [
    "DEFAULT_COST_PER_KWH",
    "CustomerCategory",
    "Periods",
    "Problem",
    "ReliabilityData",
    "ReliabilityParams",
]


class CustomerCategory(StrEnum):
    """Customer categories with their own specific interruption cost."""

    RESIDENTIAL = "residential"
    AGRICULTURE = "agriculture"
    INDUSTRIAL = "industrial"
    COMMERCIAL = "commercial"
    PUBLIC = "public"


DEFAULT_COST_PER_KWH: dict[CustomerCategory, float] = {
    CustomerCategory.RESIDENTIAL: 1.0,
    CustomerCategory.AGRICULTURE: 1.5,
    CustomerCategory.PUBLIC: 2.5,
    CustomerCategory.INDUSTRIAL: 8.0,
    CustomerCategory.COMMERCIAL: 12.0,
}
"""Specific cost of energy not supplied per customer category [EUR/kWh].

Rounded, order-of-magnitude values of the Norwegian CENS (KILE) specific
interruption costs for a one-hour unnotified interruption (Kjølle et al. 2008,
converted at about 10 NOK/EUR). They are defaults for comparing
configurations, not a tariff: set your regulator's figures per load
(``net.load['interruption_cost_per_kwh']``) or per category.

References
----------
G. H. Kjølle, K. Samdal, B. Singh, O. A. Kvitastein, "Customer costs related to
interruptions and voltage problems: methodology and results", IEEE Trans. Power
Systems 23(3), 2008.
"""

_PROFILE_PREFIX = {"H": "residential", "G": "commercial", "L": "agriculture"}


@dataclass(frozen=True, slots=True)
class ReliabilityParams:
    """Defaults for the reliability data of lines without their own values.

    The defaults are those of the Roy Billinton Test System's 11 kV feeders.

    Attributes
    ----------
    fault_rate_per_km_year : float
        Permanent faults per km and year [1/(km·a)].
    sectioning_time_h : float
        Time to locate and isolate a fault and re-close the breaker or a tie [h].
    repair_time_h : float
        Time to repair a faulted line [h].
    default_category : CustomerCategory
        Category of loads that name none.
    cost_per_kwh : dict
        Specific cost per category [EUR/kWh]; defaults :data:`DEFAULT_COST_PER_KWH`.

    References
    ----------
    R. N. Allan, R. Billinton, I. Sjarief, L. Goel, K. S. So, "A reliability test
    system for educational purposes - basic distribution system data and results",
    IEEE Trans. Power Systems 6(2), 1991.
    """

    fault_rate_per_km_year: float = 0.065
    sectioning_time_h: float = 1.0
    repair_time_h: float = 5.0
    default_category: CustomerCategory = CustomerCategory.RESIDENTIAL
    cost_per_kwh: dict[CustomerCategory, float] = field(
        default_factory=lambda: dict(DEFAULT_COST_PER_KWH)
    )


@dataclass(frozen=True, slots=True)
class ReliabilityData:
    """Per-line and per-load reliability inputs, ordered as ``net.line`` / ``net.load``.

    Read from optional columns, else from :class:`ReliabilityParams`:
    ``net.line``: ``fault_rate_per_year`` [1/a] (or ``fault_rate_per_km_year``
    [1/(km·a)] times ``length_km``), ``sectioning_time_h`` [h],
    ``repair_time_h`` [h], ``breaker`` (bool: a breaker at the line's upstream
    end protects it and everything below; feeder heads always have one);
    ``net.load``: ``customer_category`` (a :class:`CustomerCategory` value;
    SimBench ``profile`` names H*, G*, L* map to residential, commercial,
    agriculture), ``interruption_cost_per_kwh`` [EUR/kWh].
    """

    fault_rate_per_year: np.ndarray
    sectioning_time_h: np.ndarray
    repair_time_h: np.ndarray
    breaker: np.ndarray
    load_category: tuple[str, ...]
    load_cost_per_kwh: np.ndarray

    @classmethod
    def from_net(
        cls, net: pp.pandapowerNet, params: ReliabilityParams | None = None
    ) -> ReliabilityData:
        p = params or ReliabilityParams()
        line, load = net.line, net.load

        def col(frame: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
            if name not in frame:
                return default
            values = frame[name].to_numpy(dtype=float)
            return np.where(np.isnan(values), default, values)

        length = line["length_km"].fillna(1.0).to_numpy(dtype=float)
        n = len(line)
        rate_km = col(line, "fault_rate_per_km_year", np.full(n, p.fault_rate_per_km_year))
        rate = col(line, "fault_rate_per_year", rate_km * length)
        breaker = (
            line["breaker"].fillna(False).to_numpy(dtype=bool)
            if "breaker" in line
            else np.zeros(n, dtype=bool)
        )
        categories = []
        for i in range(len(load)):
            cat = load["customer_category"].iloc[i] if "customer_category" in load else None
            if not isinstance(cat, str) or not cat:
                prof = load["profile"].iloc[i] if "profile" in load else None
                cat = _PROFILE_PREFIX.get(str(prof)[:1], p.default_category.value)
            categories.append(str(cat))
        cost_by_cat = {str(k): v for k, v in p.cost_per_kwh.items()}
        base_cost = np.array([cost_by_cat.get(c, np.nan) for c in categories], dtype=float)
        cost = col(load, "interruption_cost_per_kwh", base_cost)
        return cls(
            fault_rate_per_year=rate,
            sectioning_time_h=col(line, "sectioning_time_h", np.full(n, p.sectioning_time_h)),
            repair_time_h=col(line, "repair_time_h", np.full(n, p.repair_time_h)),
            breaker=breaker,
            load_category=tuple(categories),
            load_cost_per_kwh=cost,
        )


@dataclass(eq=False)
class Problem:
    """A net prepared for reconfiguration; build it with :meth:`from_net`.

    Attributes
    ----------
    net : pandapowerNet
        A normalized private copy of the input net.
    all_lines_switchable : bool
        True: every line is switchable (its ``in_service`` is the switch);
        False: lines with at least one line switch (``net.switch``, ``et == 'l'``).
    line_pos : ndarray of int, shape (m,)
        Positions in ``net.line`` of the switchable lines.
    start_closed : ndarray of bool, shape (m,)
        The configuration the net is in.
    n_node : int
        Nodes of the contracted graph (node 0 = all sources).
    edge_u, edge_v : ndarray of int, shape (m,)
        Nodes at the ends of each switchable line (-1 where unusable).
    usable : ndarray of bool, shape (m,)
        False for lines that can never be closed in a radial supply (both ends
        in one node, or an end in a part of the grid no source can reach).
    vm_min_pu, vm_max_pu : ndarray, shape (n_bus,)
        Voltage limits [pu] (``net.bus.min_vm_pu`` / ``max_vm_pu``, else 0.9 / 1.1).
    line_max_loading_percent, trafo_max_loading_percent : ndarray
        Loading limits [%] (``max_loading_percent``, else 100).
    reliability : ReliabilityData
        Fault rates, times, breakers and interruption costs.
    """

    net: pp.pandapowerNet
    all_lines_switchable: bool
    line_pos: np.ndarray
    start_closed: np.ndarray
    n_node: int
    edge_u: np.ndarray
    edge_v: np.ndarray
    usable: np.ndarray
    vm_min_pu: np.ndarray
    vm_max_pu: np.ndarray
    line_max_loading_percent: np.ndarray
    trafo_max_loading_percent: np.ndarray
    reliability: ReliabilityData
    # bus-level branch graph (lines, transformers, closed bus-bus switches)
    br_from: np.ndarray
    br_to: np.ndarray
    br_line: np.ndarray  # line position, or -1
    br_fixed_closed: np.ndarray  # closed whatever the configuration
    br_switchable: np.ndarray  # index into the switchable lines, or -1
    source_bus: np.ndarray
    load_bus: np.ndarray
    node_of_bus: np.ndarray  # node of each bus, -1 where no configuration reaches it
    line_names: list[str]
    _switch_map: SwitchMap = field(repr=False)
    _line_sw_pos: np.ndarray = field(repr=False)  # line switches (positions in net.switch)
    _line_sw_line: np.ndarray = field(repr=False)  # ... their switchable-line index (or -1)
    _flow: BatchFlow | None = field(default=None, repr=False)

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_net(
        cls,
        net: pp.pandapowerNet,
        *,
        all_lines_switchable: bool = False,
        reliability: ReliabilityParams | None = None,
        vm_min_pu: float | None = None,
        vm_max_pu: float | None = None,
        max_loading_percent: float | None = None,
        source: str = "<net>",
    ) -> Problem:
        """Prepare ``net`` (not modified) for reconfiguration.

        Parameters
        ----------
        net : pandapowerNet
            The grid, in the configuration it is in now.
        all_lines_switchable : bool
            Make every line switchable (literature benchmarks without switch
            tables such as ``case33bw``); the lines' ``in_service`` is the state.
        reliability : ReliabilityParams, optional
            Defaults for lines and loads without their own reliability columns.
        vm_min_pu, vm_max_pu, max_loading_percent : float, optional
            Uniform limits instead of the net's own [pu], [%].
        source : str
            Where the net came from, for error messages.

        Raises
        ------
        InputError
            No source; no switchable line; or a load that no configuration can supply.
        """
        net = normalize_net(copy.deepcopy(net), source)
        if not net.ext_grid["in_service"].to_numpy(dtype=bool).any():
            raise InputError(source, "ext_grid", "no source in service; expected an ext_grid")
        n_bus, n_line = len(net.bus), len(net.line)
        bus_index = net.bus.index
        sw = net.switch
        sw_closed = sw["closed"].to_numpy(dtype=bool)
        is_line_sw = sw["et"].to_numpy() == "l"
        sw_pos = np.flatnonzero(is_line_sw)
        sw_line = net.line.index.get_indexer(sw["element"].to_numpy()[is_line_sw])
        has_sw = np.bincount(sw_line, minlength=n_line) > 0
        open_sw = np.bincount(sw_line[~sw_closed[is_line_sw]], minlength=n_line)
        in_service = net.line["in_service"].to_numpy(dtype=bool)
        line_closed = in_service & (open_sw == 0)
        if all_lines_switchable:
            line_pos = np.arange(n_line)
        else:
            line_pos = np.flatnonzero(has_sw & in_service)
        if len(line_pos) == 0:
            raise InputError(
                source,
                "switch",
                "no line with a line switch (et='l'); expected switchable lines, "
                "or use the all-lines-switchable option",
            )
        m = len(line_pos)
        sw_index_of_line = np.full(n_line, -1)
        sw_index_of_line[line_pos] = np.arange(m)

        # bus-level branches: lines, transformers, closed bus-bus switches
        smap = SwitchMap.from_net(net)
        hv, lv = smap.trafo_status(sw_closed, net.trafo["in_service"].to_numpy(dtype=bool))
        b2b = sw[(sw["et"].to_numpy() == "b") & sw_closed]
        br_from = np.concatenate(
            [
                bus_index.get_indexer(net.line["from_bus"]),
                bus_index.get_indexer(net.trafo["hv_bus"]),
                bus_index.get_indexer(b2b["bus"]),
            ]
        )
        br_to = np.concatenate(
            [
                bus_index.get_indexer(net.line["to_bus"]),
                bus_index.get_indexer(net.trafo["lv_bus"]),
                bus_index.get_indexer(b2b["element"]),
            ]
        )
        n_br = len(br_from)
        br_line = np.full(n_br, -1)
        br_line[:n_line] = np.arange(n_line)
        br_switchable = np.full(n_br, -1)
        br_switchable[:n_line] = sw_index_of_line
        fixed_line = line_closed & (sw_index_of_line < 0)
        br_fixed_closed = np.concatenate([fixed_line, hv & lv, np.ones(len(b2b), dtype=bool)])

        # contract the fixed part: buses joined by fixed closed branches are one node
        comp = _components(n_bus, br_from[br_fixed_closed], br_to[br_fixed_closed])
        source_bus = bus_index.get_indexer(net.ext_grid["bus"][net.ext_grid["in_service"]])
        root_comps = np.unique(comp[source_bus])
        is_root = np.isin(comp, root_comps)
        others = np.unique(comp[~is_root])
        node = np.zeros(n_bus, dtype=np.int64)
        node[~is_root] = np.searchsorted(others, comp[~is_root]) + 1
        n_node = len(others) + 1
        eu, ev = node[br_from[line_pos]], node[br_to[line_pos]]
        usable = eu != ev

        # nodes no configuration can reach: an error if they hold loads, else left out
        reach = _components(n_node, eu[usable], ev[usable])
        dead_node = reach != reach[0]
        load_bus = bus_index.get_indexer(net.load["bus"])
        if dead_node.any():
            load_on = net.load["in_service"].to_numpy(dtype=bool) & (
                net.load["p_mw"].abs().to_numpy() + net.load["q_mvar"].abs().to_numpy() > 0
            )
            stranded = np.flatnonzero(load_on & dead_node[node[load_bus]])
            if len(stranded):
                i = stranded[0]
                raise InputError(
                    source,
                    f"load[{net.load.index[i]}]",
                    f"at bus {net.load['bus'].iloc[i]} cannot be supplied by any radial "
                    "configuration of the switchable lines; expected every load reachable "
                    "from a source",
                )
            keep = ~dead_node
            new_id = np.cumsum(keep) - 1
            usable &= keep[eu] & keep[ev]
            node = np.where(keep[node], new_id[node], -1)
            n_node = int(keep.sum())
            eu = np.where(usable, node[br_from[line_pos]], -1)
            ev = np.where(usable, node[br_to[line_pos]], -1)
        else:
            eu = np.where(usable, eu, -1)
            ev = np.where(usable, ev, -1)

        def bus_col(name: str, value: float | None, default: float) -> np.ndarray:
            if value is not None:
                return np.full(n_bus, float(value))
            if name in net.bus:
                return net.bus[name].fillna(default).to_numpy(dtype=float)
            return np.full(n_bus, default)

        def loading(table: str) -> np.ndarray:
            frame = net[table]
            if max_loading_percent is not None:
                return np.full(len(frame), float(max_loading_percent))
            if "max_loading_percent" in frame:
                return frame["max_loading_percent"].fillna(100.0).to_numpy(dtype=float)
            return np.full(len(frame), 100.0)

        return cls(
            net=net,
            all_lines_switchable=all_lines_switchable,
            line_pos=line_pos,
            start_closed=line_closed[line_pos].copy(),
            n_node=n_node,
            edge_u=eu,
            edge_v=ev,
            usable=usable,
            vm_min_pu=bus_col("min_vm_pu", vm_min_pu, 0.9),
            vm_max_pu=bus_col("max_vm_pu", vm_max_pu, 1.1),
            line_max_loading_percent=loading("line"),
            trafo_max_loading_percent=loading("trafo"),
            reliability=ReliabilityData.from_net(net, reliability),
            br_from=br_from,
            br_to=br_to,
            br_line=br_line,
            br_fixed_closed=br_fixed_closed,
            br_switchable=br_switchable,
            source_bus=source_bus,
            load_bus=load_bus,
            node_of_bus=node,
            line_names=element_names(net, "line"),
            _switch_map=smap,
            _line_sw_pos=sw_pos,
            _line_sw_line=sw_index_of_line[sw_line],
        )

    # --- sizes and the power-flow model -----------------------------------------------------

    @property
    def m(self) -> int:
        """Number of switchable lines."""
        return len(self.line_pos)

    @property
    def n_loops(self) -> int:
        """Lines open in every radial configuration (usable lines minus tree edges)."""
        return int(self.usable.sum()) - (self.n_node - 1)

    @property
    def flow(self) -> BatchFlow:
        """The batch power-flow model (built on first use)."""
        if self._flow is None:
            self._flow = BatchFlow(
                self.net,
                line_pos=self.line_pos,
                vm_min_pu=self.vm_min_pu,
                vm_max_pu=self.vm_max_pu,
                line_max_loading_percent=self.line_max_loading_percent,
                trafo_max_loading_percent=self.trafo_max_loading_percent,
            )
        return self._flow

    # --- configurations <-> pandapower ----------------------------------------------------------

    def line_in_service(self, closed: np.ndarray) -> np.ndarray:
        """``net.line.in_service`` for a configuration (all-lines-switchable nets), (n_line,)."""
        out = self.net.line["in_service"].to_numpy(dtype=bool).copy()
        out[self.line_pos] = closed
        return out

    def switch_closed(self, closed: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """``net.switch.closed`` for a configuration, shape (n_switch,).

        A closed line has all its line switches closed, an open line all of
        them open (so the line is de-energized, as the power flows assume).
        Other switches keep ``base`` (default: the net's switch states).
        """
        out = (
            self.net.switch["closed"].to_numpy(dtype=bool).copy()
            if base is None
            else np.asarray(base, dtype=bool).copy()
        )
        mine = self._line_sw_line >= 0
        out[self._line_sw_pos[mine]] = np.asarray(closed, dtype=bool)[self._line_sw_line[mine]]
        return out

    def closed_from_switches(self, switch_closed: np.ndarray) -> np.ndarray:
        """The configuration a ``net.switch.closed`` array puts the switchable lines in."""
        open_sw = ~np.asarray(switch_closed, dtype=bool)[self._line_sw_pos]
        n_open = np.bincount(
            self._line_sw_line[open_sw & (self._line_sw_line >= 0)], minlength=self.m
        )
        return n_open == 0

    def line_index(self) -> np.ndarray:
        """pandapower indices of the switchable lines."""
        return self.net.line.index.to_numpy()[self.line_pos]


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` vertices joined by edges ``a``-``b``."""
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]
