"""Forecast targets and features: aggregation, calendar, clear sky, lags (pure; no mosaik).

Everything here works on whole arrays: a history buffer ``values`` of shape
``(n_points, n_targets)`` on a regular clock, and integer positions into it.
A feature for a target time ``tau`` issued at ``now`` (the last observed
position) only ever reads ``values[: now + 1]``: every lag is pushed back by
whole days or weeks until it lies at or before ``now``.

References
----------
.. [1] P. G. Ineichen, R. Perez, "A new airmass independent formulation for
   the Linke turbidity coefficient", Solar Energy 73(3), 2002, pp. 151-157
   (the clear-sky model, as implemented in pvlib).
.. [2] W. F. Holmgren, C. W. Hansen, M. A. Mikofski, "pvlib python: a python
   package for modeling solar energy systems", Journal of Open Source
   Software 3(29), 884, 2018.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandapower as pp

__all__ = [
    "TargetSet",
    "base_features",
    "calendar",
    "clear_sky_ghi_w_m2",
    "feeder_of_bus",
    "n_base_features",
    "target_set",
]

GROUPS = ("load", "pv", "other")
"""Target groups: loads, photovoltaic generators, every other generator."""

_PV_WORDS = ("pv", "solar", "photovolt", "lv_res")


def calendar(time_s: np.ndarray, utc_offset_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Local hour of day [h] and weekday (0 = Monday) of epoch instants ``time_s`` [s]."""
    local = np.asarray(time_s, dtype=np.int64) + int(utc_offset_s)
    hour_h = (local % 86400) / 3600.0
    weekday = ((local // 86400) + 3) % 7  # 1970-01-01 was a Thursday
    return hour_h, weekday.astype(np.int64)


def clear_sky_ghi_w_m2(
    time_s: np.ndarray, *, latitude_deg: float, longitude_deg: float, step_s: int
) -> np.ndarray:
    """Clear-sky global horizontal irradiance [W/m2], mean over each interval.

    Ineichen-Perez model with pvlib's monthly Linke turbidity climatology [1]_
    [2]_, evaluated at the middle of each interval ``[t, t + step_s)``.

    Parameters
    ----------
    time_s : ndarray of int
        Interval starts, epoch seconds (UTC).
    latitude_deg, longitude_deg : float
        Site [degree north, degree east].
    step_s : int
        Interval length [s].
    """
    import pandas as pd
    import pvlib

    mid = pd.to_datetime(np.asarray(time_s, dtype=np.int64) + step_s // 2, unit="s", utc=True)
    site = pvlib.location.Location(latitude_deg, longitude_deg)
    ghi = site.get_clearsky(pd.DatetimeIndex(mid), model="ineichen")["ghi"]
    return np.clip(ghi.to_numpy(dtype=float), 0.0, None)


def feeder_of_bus(net: pp.pandapowerNet) -> tuple[np.ndarray, list[str]]:
    """Feeder of every bus (position; -1 outside any feeder) and the feeders' names.

    A feeder is what stays connected after removing the substation busbars
    (transformer LV buses, else external-grid buses), with the switch
    positions of ``net``. Components that hold an external grid are not
    feeders. Feeders are numbered by their first bus; the name is
    ``feeder <n>``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(net.bus)
    a, b = _bus_edges(net)
    subs = net.bus.index.get_indexer(
        (net.trafo["lv_bus"] if len(net.trafo) else net.ext_grid["bus"]).to_numpy()
    )
    keep = ~(np.isin(a, subs) | np.isin(b, subs))
    _, label = connected_components(
        coo_matrix((np.ones(int(keep.sum())), (a[keep], b[keep])), shape=(n, n)), directed=False
    )
    label[subs] = -1  # the substation busbars belong to no feeder
    slack = set(label[net.bus.index.get_indexer(net.ext_grid["bus"].to_numpy())].tolist())
    members: dict[int, list[int]] = {}
    for position, lab in enumerate(label.tolist()):
        if lab >= 0 and lab not in slack:
            members.setdefault(lab, []).append(position)
    comps = sorted(members.values(), key=lambda c: c[0])
    out = np.full(len(net.bus), -1, dtype=np.int64)
    for k, comp in enumerate(comps):
        out[comp] = k
    return out, [f"feeder {k + 1}" for k in range(len(comps))]


_OTHER_BRANCHES = (
    ("impedance", "from_bus", "to_bus"),
    ("trafo3w", "hv_bus", "mv_bus"),
    ("trafo3w", "hv_bus", "lv_bus"),
)


def _bus_edges(net: pp.pandapowerNet) -> tuple[np.ndarray, np.ndarray]:
    """Bus positions joined by an in-service line (no open line switch), a closed bus-bus
    switch, an impedance or a three-winding transformer (two-winding ones left out)."""
    index = net.bus.index
    sw = net.switch
    closed = sw["closed"].to_numpy(bool)
    is_line = sw["et"].to_numpy() == "l"
    open_lines = set(sw["element"].to_numpy()[is_line & ~closed].tolist())
    line = net.line[net.line["in_service"].to_numpy(bool)]
    line = line[~line.index.isin(list(open_lines))]
    pairs = [(line["from_bus"].to_numpy(), line["to_bus"].to_numpy())]
    bb = (sw["et"].to_numpy() == "b") & closed
    pairs.append((sw["bus"].to_numpy()[bb], sw["element"].to_numpy()[bb]))
    for table, end_a, end_b in _OTHER_BRANCHES:
        frame = net[table] if table in net else None
        if frame is not None and len(frame):
            frame = frame[frame["in_service"].to_numpy(bool)]
            pairs.append((frame[end_a].to_numpy(), frame[end_b].to_numpy()))
    a = np.concatenate([index.get_indexer(p) for p, _ in pairs])
    b = np.concatenate([index.get_indexer(q) for _, q in pairs])
    return a, b


@dataclass(frozen=True, slots=True)
class TargetSet:
    """What is forecast: targets (sums of elements) and how elements map to them.

    Attributes
    ----------
    names : list of str
        One per target, ``<group>:<aggregate>`` (e.g. ``load:feeder 3``).
    group : ndarray of int
        Index into ``GROUPS`` per target.
    load_target, sgen_target : ndarray of int
        The target of every load / sgen (position in pandapower table order).
    """

    names: list[str]
    group: np.ndarray
    load_target: np.ndarray
    sgen_target: np.ndarray

    @property
    def n_targets(self) -> int:
        return len(self.names)

    def aggregate(self, load_p_mw: np.ndarray, sgen_p_mw: np.ndarray) -> np.ndarray:
        """Target values [MW] from element values; works on ``(..., n_elements)`` arrays."""
        n = self.n_targets
        load_map = np.eye(n)[self.load_target] if len(self.load_target) else np.zeros((0, n))
        sgen_map = np.eye(n)[self.sgen_target] if len(self.sgen_target) else np.zeros((0, n))
        return np.asarray(load_p_mw, dtype=float) @ load_map + (
            np.asarray(sgen_p_mw, dtype=float) @ sgen_map
        )


def _sgen_is_pv(net: pp.pandapowerNet) -> np.ndarray:
    """PV by the element's type, profile or name (``PV``, ``solar``, SimBench's ``lv_RES``)."""
    frame = net.sgen
    text = np.zeros(len(frame), dtype=object)
    text[:] = ""
    for column in ("type", "profile", "name"):
        if column in frame:
            text = text + " " + frame[column].astype(str).str.lower().to_numpy(dtype=object)
    return np.array([any(w in s for w in _PV_WORDS) for s in text], dtype=bool)


def target_set(net: pp.pandapowerNet, level: str) -> TargetSet:
    """The targets of a forecasting level: ``element``, ``bus``, ``feeder`` or ``grid``.

    Loads, PV generators and other generators are separate groups at every
    level; an aggregate without any element of a group has no target there.
    Elements at buses outside any feeder form ``<group>:substation``.
    """
    from gridtwin.grid.topology import element_names

    bus_pos = {b: i for i, b in enumerate(net.bus.index)}
    is_pv = _sgen_is_pv(net)
    tables = {
        "load": ("load", np.ones(len(net.load), dtype=bool)),
        "pv": ("sgen", is_pv),
        "other": ("sgen", ~is_pv),
    }
    if level == "feeder":
        feeder, feeder_names = feeder_of_bus(net)
    names: list[str] = []
    group: list[int] = []
    load_target = np.zeros(len(net.load), dtype=np.int64)
    sgen_target = np.zeros(len(net.sgen), dtype=np.int64)
    for g, gname in enumerate(GROUPS):
        table, mask = tables[gname]
        frame = net[table]
        pos = np.flatnonzero(mask)
        if level == "element":
            labels = [element_names(net, table)[p] for p in pos]
        elif level == "bus":
            bnames = element_names(net, "bus")
            labels = [bnames[bus_pos[b]] for b in frame["bus"].to_numpy()[pos]]
        elif level == "feeder":
            f = feeder[[bus_pos[b] for b in frame["bus"].to_numpy()[pos]]]
            labels = [feeder_names[k] if k >= 0 else "substation" for k in f]
        else:
            labels = ["grid"] * len(pos)
        unique = list(dict.fromkeys(labels))
        order = {lab: len(names) + i for i, lab in enumerate(unique)}
        names.extend(f"{gname}:{lab}" for lab in unique)
        group.extend([g] * len(unique))
        targets = np.array([order[lab] for lab in labels], dtype=np.int64)
        if table == "load":
            load_target[pos] = targets
        else:
            sgen_target[pos] = targets
    return TargetSet(names, np.asarray(group, dtype=np.int64), load_target, sgen_target)


def n_base_features(pv: bool) -> int:
    """Number of columns :func:`base_features` returns."""
    return 16 if pv else 11


def base_features(
    values: np.ndarray,
    now: int,
    tau: np.ndarray,
    *,
    steps_per_day: int,
    hour_h: np.ndarray,
    weekday: np.ndarray,
    cs: np.ndarray | None = None,
) -> np.ndarray:
    """Features of the learned model for target positions ``tau`` issued at ``now``.

    Only ``values[: now + 1]`` is read. Rows are ``(tau, target)`` pairs,
    ``tau`` major: row ``i * n_targets + j`` is target ``j`` at ``tau[i]``.

    Parameters
    ----------
    values : ndarray, shape (n_points, n_targets)
        History, normalized per target [-]; NaN where nothing was observed.
    now : int
        Position of the last observed point.
    tau : ndarray of int
        Target positions, each after ``now``.
    steps_per_day : int
        Points per day.
    hour_h, weekday : ndarray
        Local hour of day [h] and weekday of every position (from :func:`calendar`).
    cs : ndarray, optional
        Clear-sky irradiance of every position [kW/m2]; gives the PV features.

    Returns
    -------
    ndarray, shape (len(tau) * n_targets, n_features)
        Columns: hour of day [h], weekday, lead [h], the value at the same
        time on the latest observed day, one week before, the mean of the
        same time over four weeks, the mean of the last day and of the last
        week, the last value, the mean of the last hour, the mean of the same time over
        the last seven observed days; with ``cs`` also the
        clear-sky irradiance at ``tau`` and at the same time on the latest
        observed day [kW/m2], the clearness of the last day and of the last
        hour [-], and the largest value at the same time of day over the last
        seven observed days (zero: night for PV; the last column).
    """
    spd = steps_per_day
    week = 7 * spd
    past = values[: now + 1]
    n_t = past.shape[1]
    tau = np.asarray(tau, dtype=np.int64)
    ahead = tau - now  # >= 1
    day_lag = -(-ahead // spd) * spd
    week_lag = -(-ahead // week) * week

    def at(pos: np.ndarray) -> np.ndarray:
        ok = pos >= 0
        out = np.full((len(pos), n_t), np.nan)
        out[ok] = past[pos[ok]]
        return out

    with np.errstate(invalid="ignore"), _quiet():
        same_day = at(tau - day_lag)
        same_week = at(tau - week_lag)
        four_weeks = np.nanmean(np.stack([at(tau - week_lag - k * week) for k in range(4)]), axis=0)
        days = np.stack([at(tau - day_lag - k * spd) for k in range(7)])
        week_mean = np.nanmean(days, axis=0)
        week_max = np.nanmax(days, axis=0)
        level_day = np.nanmean(past[max(0, now + 1 - spd) :], axis=0)
        level_week = np.nanmean(past[max(0, now + 1 - week) :], axis=0)
        level_hour = np.nanmean(past[max(0, now + 1 - max(1, spd // 24)) :], axis=0)
    rep = len(tau)

    def per_tau(x: np.ndarray) -> np.ndarray:
        return np.repeat(x, n_t)

    def per_target(x: np.ndarray) -> np.ndarray:
        return np.tile(x, rep)

    cols = [
        per_tau(hour_h[tau]),
        per_tau(weekday[tau].astype(float)),
        per_tau(ahead * 24.0 / spd),
        same_day.reshape(-1),
        same_week.reshape(-1),
        four_weeks.reshape(-1),
        per_target(level_day),
        per_target(level_week),
        per_target(past[now]),
        per_target(level_hour),
        week_mean.reshape(-1),
    ]
    if cs is not None:
        hour = max(1, spd // 24)
        lo_d, lo_h = max(0, now + 1 - spd), max(0, now + 1 - hour)
        with np.errstate(invalid="ignore", divide="ignore"), _quiet():
            k_day = np.nansum(past[lo_d:], axis=0) / max(cs[lo_d : now + 1].sum(), 1e-6)
            cs_h = cs[lo_h : now + 1].sum()
            k_hour = np.nansum(past[lo_h:], axis=0) / cs_h if cs_h > 1e-3 else np.full(n_t, np.nan)
        cols += [
            per_tau(cs[tau]),
            per_tau(cs[np.maximum(tau - day_lag, 0)]),
            per_target(k_day),
            per_target(k_hour),
            np.nan_to_num(week_max.reshape(-1)),
        ]
    return np.column_stack(cols)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' warnings inside a block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
