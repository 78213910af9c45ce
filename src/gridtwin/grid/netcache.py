"""A pandapower-free cache of networks and SimBench profiles, for checks that run nothing.

``gridtwin validate`` checks a scenario against its network's tables and its
profiles; it never solves a power flow. Importing pandapower (and SimBench,
which imports it) costs over a second, more than the checks themselves, so a
normalized SimBench net is also kept as its plain tables (pandas DataFrames
and scalars, no pandapower class) and SimBench's absolute profiles as NumPy
arrays. Both are written by a run (or a validate) that built them the full
way (pandapower's own networks too, by name and options) and are keyed by
the SimBench and pandapower versions, so an upgrade of
either rebuilds them. ``GRIDTWIN_CACHE=off`` disables them with the net cache.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from gridtwin.grid.cache import cache_file, read_pickle, write_pickle

__all__ = [
    "TableNet",
    "is_checked",
    "is_kept",
    "keep_tables",
    "load_tables",
    "mark_checked",
    "net_key",
    "read_profiles",
    "read_tables",
    "write_profiles",
    "write_tables",
]

_FORMAT = 1


class TableNet(dict[str, Any]):
    """A network as its tables: ``net.bus`` and ``net["bus"]`` are DataFrames.

    It answers what gridtwin's checks read of a pandapower net (its tables and
    scalars such as ``sn_mva``) and nothing else; it cannot be solved.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "0"


def net_key(spec: Any) -> str | None:
    """The cache key of a ``grid`` section's network, or None if it is not kept.

    SimBench codes and pandapower network functions (with their options) are
    kept; files and CGMES archives are read each time.
    """
    if getattr(spec, "simbench", None):
        return str(spec.simbench)
    if getattr(spec, "pandapower", None):
        options = json.dumps(dict(spec.options), sort_keys=True, default=str)
        digest = hashlib.sha256(options.encode()).hexdigest()[:12]
        return f"pandapower-{spec.pandapower}-{digest}"
    return None


def _path(code: str, kind: str) -> Path | None:
    versions = f"simbench{_version('simbench')}-pandapower{_version('pandapower')}"
    return cache_file("simbench", code, f"-{versions}-{kind}-v{_FORMAT}.pkl")


def is_kept(code: str, kind: str) -> bool:
    """Whether ``kind`` (``tables`` or ``profiles``) of SimBench net ``code`` is kept."""
    path = _path(code, kind)
    return path is not None and path.is_file()


def _read(code: str, kind: str) -> Any:
    return read_pickle(_path(code, kind))


def _write(code: str, kind: str, value: Any) -> None:
    write_pickle(_path(code, kind), value)


def write_tables(code: str, net: Any) -> None:
    """Keep a normalized SimBench net's tables and scalars (no pandapower objects)."""
    import pandas as pd

    plain = {
        key: value
        for key, value in net.items()
        if isinstance(value, pd.DataFrame) or isinstance(value, str | int | float | bool)
    }
    _write(code, "tables", plain)


def read_tables(code: str) -> TableNet | None:
    """The tables of a SimBench net kept by :func:`write_tables`, or None."""
    plain = _read(code, "tables")
    return TableNet(plain) if isinstance(plain, dict) else None


def write_profiles(code: str, profiles: dict[tuple[str, str], np.ndarray]) -> None:
    """Keep SimBench's absolute profiles of a net ``(element, quantity) -> array``."""
    _write(code, "profiles", profiles)


def read_profiles(code: str) -> dict[tuple[str, str], np.ndarray] | None:
    """The profiles kept by :func:`write_profiles`, or None."""
    value = _read(code, "profiles")
    return value if isinstance(value, dict) else None


def load_tables(spec: Any, source: str = "<scenario>") -> Any:
    """A scenario's network for checks, without pandapower when its tables are kept.

    Parameters
    ----------
    spec : GridSpec
        The scenario's ``grid`` section.
    source : str
        The scenario file, for error messages.

    Returns
    -------
    TableNet or pandapowerNet
        A net kept by :func:`write_tables` (see :func:`net_key`), its physical checks repeated
        for ``spec.engine``; anything else as
        :func:`gridtwin.grid.sources.load_net` loads it.
    """
    key = net_key(spec)
    if key is not None:
        tables = read_tables(key)
        if tables is not None:
            from gridtwin.grid.checks import check_physical

            check_physical(tables, source, str(getattr(spec, "engine", "power-grid-model")))
            return tables
    from gridtwin.grid.sources import load_net

    net = load_net(spec, source)
    keep_tables(spec, net)
    return net


def keep_tables(spec: Any, net: Any) -> None:
    """Keep the tables of a net loaded from ``spec`` unless they are kept already."""
    key = net_key(spec)
    if key is not None and not is_kept(key, "tables"):
        write_tables(key, net)


def _check_kind(what: str, section: Any) -> str:
    text = json.dumps(section, sort_keys=True, default=str)
    return f"checked-{what}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def is_checked(spec: Any, what: str, section: Any) -> bool:
    """Whether a check ``what`` of a kept net passed before for exactly ``section``.

    A check that needs the full pandapower net (the reconfiguration problem)
    is run once per net and section; :func:`mark_checked` notes that it
    passed, so ``validate`` need not load the net again for the same input.
    """
    key = net_key(spec)
    return key is not None and is_kept(key, "tables") and is_kept(key, _check_kind(what, section))


def mark_checked(spec: Any, what: str, section: Any) -> None:
    """Note that check ``what`` passed for ``section`` on the net of ``spec`` (see is_checked)."""
    key = net_key(spec)
    if key is not None:
        _write(key, _check_kind(what, section), True)
