"""Profiles that ship with a SimBench net.

SimBench gives one year (2016, 35,136 quarter-hours) of per-unit profiles;
``simbench.get_absolute_values`` turns them into MW/MVAr per element. The
profiles have no daylight-saving gaps, so gridtwin reads their time stamps on
a fixed clock of UTC+01:00 (CET): row 0 is 2016-01-01T00:00:00+01:00.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import numpy as np

from gridtwin.grid import netcache

if TYPE_CHECKING:
    import pandapower as pp

__all__ = ["SIMBENCH_FIRST", "SIMBENCH_RESOLUTION_S", "simbench_profiles"]

SIMBENCH_FIRST = datetime(2016, 1, 1, tzinfo=timezone(timedelta(hours=1)))
"""Time of the first row of every SimBench profile."""
SIMBENCH_RESOLUTION_S = 900


def simbench_profiles(
    net: pp.pandapowerNet, code: str | None = None
) -> dict[tuple[str, str], np.ndarray]:
    """Absolute profiles of a SimBench net.

    Parameters
    ----------
    net : pandapowerNet
        A SimBench net (its profile tables).
    code : str, optional
        The net's SimBench code: its profiles are then read from, or kept in,
        :mod:`gridtwin.grid.netcache`.

    Returns
    -------
    dict
        ``(element, quantity) -> ndarray (n_points, n_elements)`` for
        ``('load', 'p_mw')``, ``('load', 'q_mvar')``, ``('sgen', 'p_mw')`` and
        ``('storage', 'p_mw')`` where the net has them [MW], [MVAr]; columns in
        the order of the pandapower table.
    """
    if code is not None:
        kept = netcache.read_profiles(code)
        if kept is not None:
            return kept
    import simbench

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        absolute = simbench.get_absolute_values(net, profiles_instead_of_study_cases=True)
    out: dict[tuple[str, str], np.ndarray] = {}
    for (element, quantity), frame in absolute.items():
        if element not in ("load", "sgen", "storage") or frame.shape[1] == 0:
            continue
        frame = frame.reindex(columns=net[element].index)
        if frame.isna().all(axis=0).any():
            nominal = net[element][quantity].to_numpy(dtype=float)
            frame = frame.fillna(dict(zip(frame.columns, nominal, strict=True)))
        out[(element, quantity)] = frame.to_numpy(dtype=float)
    if code is not None:
        netcache.write_profiles(code, out)
    return out
