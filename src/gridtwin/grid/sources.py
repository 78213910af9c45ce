"""Where networks come from: SimBench codes, pandapower's built-in networks, JSON files, CGMES.

Every reader returns a pandapower net normalized for gridtwin's engines and
raises :class:`~gridtwin.errors.InputError` on anything that is not a usable
network.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandapower as pp

from gridtwin.errors import InputError
from gridtwin.grid.cache import cache_file, read_pickle, write_pickle
from gridtwin.grid.checks import BUS_REFS, check_engine_domain, check_physical

__all__ = ["load_net", "normalize_net", "read_net_json"]

_REQUIRED_TABLES = ("bus", "line", "trafo", "load", "sgen", "switch", "ext_grid")

PANDAPOWER_ALIASES = {
    "cigre_mv": "create_cigre_network_mv",
    "cigre_lv": "create_cigre_network_lv",
    "cigre_hv": "create_cigre_network_hv",
}
"""Short names for pandapower.networks functions (``cigre_mv`` takes ``with_der``)."""


class NetSource(Protocol):
    """Where a network comes from (``gridtwin.scenario.GridSpec`` is one)."""

    @property
    def simbench(self) -> str | None: ...

    @property
    def pandapower(self) -> str | None: ...

    @property
    def options(self) -> Mapping[str, Any]: ...

    @property
    def file(self) -> str | None: ...

    @property
    def cgmes(self) -> str | None: ...


def load_net(spec: NetSource, source: str = "<scenario>") -> pp.pandapowerNet:
    """Load the network a :class:`~gridtwin.scenario.GridSpec` names.

    Parameters
    ----------
    spec : GridSpec
        Exactly one of ``simbench``, ``pandapower`` (with ``options``), ``file``,
        ``cgmes`` (a CGMES zip, see :mod:`gridtwin.grid.cgmes`).
    source : str
        The scenario file, for error messages.

    Returns
    -------
    pandapowerNet
        A private copy, normalized by :func:`normalize_net`.
    """
    if spec.simbench:
        net = _get_simbench(spec.simbench, source)
    elif spec.pandapower:
        net = _get_pandapower(spec.pandapower, spec.options, source)
    elif spec.cgmes:
        from gridtwin.grid.cgmes import read_cgmes

        path = Path(spec.cgmes)
        if not path.is_absolute() and Path(source).is_file():
            path = Path(source).parent / path  # relative to the scenario file
        net = read_cgmes(path)
    else:
        net = read_net_json(str(spec.file))
    engine = str(getattr(spec, "engine", "power-grid-model"))
    net = normalize_net(net, source, engine)
    check_engine_domain(net, source, engine)
    return net


def _quiet_call(func: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _get_simbench(code: str, source: str) -> pp.pandapowerNet:
    import simbench

    try:
        codes = set(simbench.collect_all_simbench_codes())
    except Exception:  # pragma: no cover - only if simbench changes its API
        codes = set()
    if codes and code not in codes:
        hint = difflib.get_close_matches(code, sorted(codes), n=1)
        raise InputError(
            source,
            "grid.simbench",
            f"got {code!r}; expected a SimBench code"
            + (f" (did you mean {hint[0]!r}?)" if hint else ", e.g. 1-MV-rural--0-sw"),
        )
    cached = _cache_path(code, getattr(simbench, "__version__", "0"))
    kept = read_pickle(cached)
    if kept is not None:
        return kept
    try:
        net = _quiet_call(simbench.get_simbench_net, code)
    except Exception as exc:
        raise InputError(
            source, "grid.simbench", f"got {code!r}; SimBench could not build it ({exc})"
        ) from None
    write_pickle(cached, net)
    return net


def _cache_path(code: str, version: str) -> Path | None:
    """Where a built SimBench net is kept (``$GRIDTWIN_CACHE`` or ~/.cache/gridtwin).

    Building a SimBench net from its CSV files takes seconds; the cache makes a
    second run start at once. ``GRIDTWIN_CACHE=off`` disables it.
    """
    return cache_file("simbench", code, f"-simbench{version}-pandapower{pp.__version__}.pkl")


def _get_pandapower(name: str, options: Mapping[str, Any], source: str) -> pp.pandapowerNet:
    import pandapower.networks as pn

    names = sorted(n for n in dir(pn) if not n.startswith("_") and callable(getattr(pn, n)))
    names += list(PANDAPOWER_ALIASES)
    real = PANDAPOWER_ALIASES.get(name, name)
    func = getattr(pn, real, None) if name in names else None
    if func is None:
        hint = difflib.get_close_matches(name, names, n=1)
        raise InputError(
            source,
            "grid.pandapower",
            f"got {name!r}; expected a pandapower.networks function"
            + (f" (did you mean {hint[0]!r}?)" if hint else ", e.g. case33bw or cigre_mv"),
        )
    try:
        net = _quiet_call(func, **options)
    except TypeError as exc:
        raise InputError(
            source, "grid.options", f"{exc}; expected options {name} accepts"
        ) from None
    except Exception as exc:
        raise InputError(source, "grid.options", f"{name}{options} failed: {exc}") from None
    if not isinstance(net, pp.pandapowerNet):
        raise InputError(source, "grid.pandapower", f"{name} does not return a network")
    return net


def read_net_json(path: str | Path) -> pp.pandapowerNet:
    """Read a pandapower JSON network file.

    Raises
    ------
    InputError
        If the file is missing, not JSON, or not a pandapower network.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "", "no such file; expected a pandapower JSON network")
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            str(path), "", f"not valid JSON ({exc}); expected a pandapower network"
        ) from None
    try:
        net = _quiet_call(pp.from_json_string, text)
    except Exception as exc:
        raise InputError(
            str(path), "", f"not a pandapower network ({type(exc).__name__}: {exc})"
        ) from None
    if not isinstance(net, pp.pandapowerNet):
        raise InputError(str(path), "", "not a pandapower network; expected pp.to_json output")
    return _check_structure(net, str(path), engine="")  # an engine's own domain: at normalize


def _check_structure(
    net: pp.pandapowerNet, source: str, engine: str = "power-grid-model"
) -> pp.pandapowerNet:
    for table in ("bus", "ext_grid"):
        if table not in net or len(net[table]) == 0:
            raise InputError(source, table, f"the network has no {table}; expected at least one")
    buses = set(net.bus.index)
    for table, cols in BUS_REFS.items():
        if table not in net:
            continue
        for col in (c for c in cols if c in net[table]):
            bad = ~net[table][col].isin(buses)
            if bad.any():
                idx = net[table].index[bad.to_numpy()][0]
                raise InputError(
                    source,
                    f"{table}[{idx}].{col}",
                    f"refers to bus {net[table][col][idx]}, which does not exist; "
                    "expected an index of the bus table",
                )
    check_physical(net, source, engine)
    return net


def normalize_net(
    net: pp.pandapowerNet, source: str = "<scenario>", engine: str = "power-grid-model"
) -> pp.pandapowerNet:
    """Make a net ready for both engines, without changing its physics.

    - every table gridtwin reads exists (empty if the net has none);
    - transformers with a tap step but no ``tap_changer_type`` get ``Ratio``
      (pandapower 3 ignores taps without it; SimBench leaves it empty);
    - transformers without ``vector_group`` get one from ``shift_degree``
      (power-grid-model needs it; only the clock matters for symmetric flows).
    """
    net = _check_structure(net, source, engine)
    for table in (*_REQUIRED_TABLES, "storage"):
        if table not in net:
            net[table] = pp.create_empty_network()[table]
    if len(net.trafo):
        trafo = net.trafo
        if "tap_changer_type" not in trafo:
            trafo["tap_changer_type"] = None
        has_step = trafo["tap_step_percent"].notna() & (trafo["tap_step_percent"] != 0)
        untyped = trafo["tap_changer_type"].isna()
        trafo.loc[has_step & untyped, "tap_changer_type"] = "Ratio"
        trafo["tap_pos"] = trafo["tap_pos"].fillna(trafo["tap_neutral"]).fillna(0)
        if "vector_group" not in trafo:
            trafo["vector_group"] = None
        missing = trafo["vector_group"].isna()
        if missing.any():
            clock = np.round(trafo["shift_degree"].fillna(0) / 30).astype(int) % 12
            groups = np.where(clock % 2 == 1, "YNd" + clock.astype(str), "YNyn" + clock.astype(str))
            trafo.loc[missing, "vector_group"] = groups[missing.to_numpy()]
    if "gen" in net and len(net.gen):
        net.gen["in_service"] = net.gen["in_service"].astype(bool)
    return net
