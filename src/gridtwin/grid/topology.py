"""Topology helpers: from switch positions to branch end statuses."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["SwitchMap", "busbar_groups", "element_names", "resolve_target"]


@dataclass(frozen=True, slots=True)
class SwitchMap:
    """Where each switch sits, as positions, for vectorized status updates.

    A line switch (``et == 'l'``) opens the line end at its bus; a transformer
    switch (``et == 't'``) the transformer end; a bus-bus switch (``et == 'b'``)
    is a link of its own.
    """

    line_from_sw: np.ndarray  # switch positions on a line's from end
    line_from_pos: np.ndarray  # ... and the line positions they belong to
    line_to_sw: np.ndarray
    line_to_pos: np.ndarray
    trafo_hv_sw: np.ndarray
    trafo_hv_pos: np.ndarray
    trafo_lv_sw: np.ndarray
    trafo_lv_pos: np.ndarray
    bus_bus_sw: np.ndarray  # positions of bus-bus switches, in table order
    n_line: int
    n_trafo: int

    @classmethod
    def from_net(cls, net: pp.pandapowerNet) -> SwitchMap:
        sw = net.switch
        et = sw["et"].to_numpy()
        element = sw["element"].to_numpy()
        bus = sw["bus"].to_numpy()
        line_pos = {idx: i for i, idx in enumerate(net.line.index)}
        trafo_pos = {idx: i for i, idx in enumerate(net.trafo.index)}
        positions = np.arange(len(sw))

        is_line = et == "l"
        l_sw = positions[is_line]
        l_pos = np.array([line_pos[e] for e in element[is_line]], dtype=np.int64)
        l_from = (
            net.line["from_bus"].to_numpy()[l_pos] == bus[is_line]
            if len(l_pos)
            else (np.zeros(0, dtype=bool))
        )
        is_trafo = et == "t"
        t_sw = positions[is_trafo]
        t_pos = np.array([trafo_pos[e] for e in element[is_trafo]], dtype=np.int64)
        t_hv = (
            net.trafo["hv_bus"].to_numpy()[t_pos] == bus[is_trafo]
            if len(t_pos)
            else (np.zeros(0, dtype=bool))
        )
        return cls(
            line_from_sw=l_sw[l_from],
            line_from_pos=l_pos[l_from],
            line_to_sw=l_sw[~l_from],
            line_to_pos=l_pos[~l_from],
            trafo_hv_sw=t_sw[t_hv],
            trafo_hv_pos=t_pos[t_hv],
            trafo_lv_sw=t_sw[~t_hv],
            trafo_lv_pos=t_pos[~t_hv],
            bus_bus_sw=positions[et == "b"],
            n_line=len(net.line),
            n_trafo=len(net.trafo),
        )

    @staticmethod
    def _end_closed(
        sw_pos: np.ndarray, br_pos: np.ndarray, closed: np.ndarray, n: int
    ) -> np.ndarray:
        open_here = ~closed[sw_pos]
        return np.bincount(br_pos[open_here], minlength=n) == 0

    def line_status(
        self, closed: np.ndarray, in_service: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(from end, to end) connected, per line."""
        f = self._end_closed(self.line_from_sw, self.line_from_pos, closed, self.n_line)
        t = self._end_closed(self.line_to_sw, self.line_to_pos, closed, self.n_line)
        return f & in_service, t & in_service

    def trafo_status(
        self, closed: np.ndarray, in_service: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(hv end, lv end) connected, per transformer."""
        h = self._end_closed(self.trafo_hv_sw, self.trafo_hv_pos, closed, self.n_trafo)
        lv = self._end_closed(self.trafo_lv_sw, self.trafo_lv_pos, closed, self.n_trafo)
        return h & in_service, lv & in_service


def element_names(net: pp.pandapowerNet, table: str) -> list[str]:
    """A unique, readable name per element: its pandapower name, else ``'<table> <index>'``."""
    frame = net[table]
    names = frame["name"] if "name" in frame else None
    out: list[str] = []
    if names is None:
        return [f"{table} {i}" for i in frame.index]
    counts = names.value_counts(dropna=True)
    for idx, name in zip(frame.index, names, strict=True):
        if isinstance(name, str) and name and counts.get(name, 0) == 1:
            out.append(name)
        else:
            out.append(f"{table} {idx}")
    return out


def busbar_groups(net: pp.pandapowerNet, switch_closed: np.ndarray) -> np.ndarray:
    """Per bus position, the first bus position of its busbar group.

    Busbar sections joined by a closed bus-bus switch (``et == 'b'``) are one
    electrical node; ``switch_closed`` holds the positions of all switches.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(net.bus)
    is_bb = (net.switch["et"].to_numpy() == "b") & np.asarray(switch_closed, dtype=bool)
    if not is_bb.any():
        return np.arange(n)
    a = net.bus.index.get_indexer(net.switch["bus"].to_numpy()[is_bb])
    b = net.bus.index.get_indexer(net.switch["element"].to_numpy()[is_bb])
    _, label = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)))
    first = np.full(label.max() + 1, -1)
    first[label[::-1]] = np.arange(n)[::-1]
    return first[label]


def resolve_target(
    net: pp.pandapowerNet, element: str, target: str | int, *, allow_all: bool = False
) -> np.ndarray:
    """Positions in ``net[element]`` that ``target`` names.

    Parameters
    ----------
    target : str or int
        A pandapower index, an element name, or ``all`` where allowed.

    Raises
    ------
    LookupError
        With a message saying what was expected.
    """
    table = net[element]
    if isinstance(target, str) and target == "all":
        if not allow_all:
            raise LookupError(f"got 'all'; expected one {element} (name or index)")
        return np.arange(len(table))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        label = int(target)
        if label in table.index:
            return np.array([table.index.get_loc(label)])
        if not isinstance(target, str):
            raise LookupError(
                f"got {target!r}; no {element} has index {label} "
                f"(expected 0..{len(table) - 1} or a name)"
            )
    names = table["name"].astype(str).to_numpy() if "name" in table else np.array([])
    hits = np.flatnonzero(names == str(target))
    if len(hits) == 1:
        return hits
    if len(hits) > 1:
        raise LookupError(f"got {target!r}; {len(hits)} {element}s have this name, use an index")
    hint = difflib.get_close_matches(str(target), list(names), n=1)
    raise LookupError(
        f"got {target!r}; no {element} of that name"
        + (f" (did you mean {hint[0]!r}?)" if hint else f"; expected a {element} name or index")
    )
