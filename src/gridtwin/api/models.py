"""Networks as the service holds them: reading uploads, summaries, and a per-network cache.

The cache keeps, per network id, the normalized pandapower net, the
reconfiguration :class:`~gridtwin.controllers.reconfig.Problem` (or why the
network is not radial-capable) and a power-flow engine, each behind one lock:
the library's models are not meant to be solved from two threads at once.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridtwin.api.problems import ApiError, from_input_error
from gridtwin.errors import InputError

__all__ = ["NetCache", "NetEntry", "read_upload", "summarize"]


def read_upload(body: bytes, content_type: str, tmp_dir: Path) -> tuple[Any, str, str]:
    """The pandapower net an upload describes, its kind and a default name.

    Parameters
    ----------
    body : bytes
        The request body.
    content_type : str
        ``application/json`` (a pandapower JSON net, or ``{"simbench": CODE}``
        or ``{"pandapower": NAME, "options": {...}}``) or ``application/zip``
        (a CGMES data set).
    tmp_dir : Path
        Where the zip is kept while it is read.
    """
    from gridtwin.grid.sources import load_net, read_net_json

    kind = content_type.split(";")[0].strip().lower()
    if kind in ("application/zip", "application/x-zip-compressed") or body[:2] == b"PK":
        from gridtwin.grid.cgmes import read_cgmes

        tmp_dir.mkdir(parents=True, exist_ok=True)
        path = tmp_dir / "upload.zip"
        path.write_bytes(body)
        try:
            return read_cgmes(path), "cgmes", "cgmes"
        except InputError as exc:
            raise from_input_error(exc, "body") from None
    if kind not in ("application/json", ""):
        raise ApiError(
            415,
            "Content-Type",
            f"got {kind!r}; expected application/json (pandapower JSON, simbench, "
            "pandapower) or application/zip (CGMES)",
        )
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "body", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ApiError(422, "body", f"got {type(data).__name__}; expected a JSON object")
    if data.get("_class") == "pandapowerNet" or "_object" in data:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        path = tmp_dir / "upload.json"
        path.write_bytes(body)
        try:
            return read_net_json(path), "pandapower-json", "network"
        except InputError as exc:
            raise from_input_error(exc, "body") from None
    return _from_source(data, load_net)


def _from_source(data: dict[str, Any], load_net: Any) -> tuple[Any, str, str]:
    from types import SimpleNamespace

    keys = set(data) - {"options"}
    if keys not in ({"simbench"}, {"pandapower"}):
        raise ApiError(
            422,
            "body",
            f"got keys {sorted(data)}; expected a pandapower JSON net, "
            '{"simbench": CODE} or {"pandapower": NAME, "options": {...}}',
        )
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise ApiError(422, "body.options", "expected an object of keyword arguments")
    for key in keys:
        if not isinstance(data[key], str) or not data[key]:
            raise ApiError(422, f"body.{key}", f"got {data[key]!r}; expected a name")
    spec = SimpleNamespace(
        simbench=data.get("simbench"),
        pandapower=data.get("pandapower"),
        options=options,
        file=None,
        cgmes=None,
    )
    try:
        net = load_net(spec, source="body")
    except InputError as exc:
        raise ApiError(422, exc.field.replace("grid.", "body.") or "body", exc.message) from None
    name = str(data.get("simbench") or data.get("pandapower"))
    return net, "simbench" if "simbench" in data else "pandapower", name


def summarize(net: Any, problem: Any, reason: str | None) -> dict[str, Any]:
    """Counts of a network's elements and its loops (``None`` when not radial-capable)."""
    n = {t: len(net[t]) for t in ("bus", "line", "trafo", "switch", "load", "sgen", "gen")}
    return {
        "buses": n["bus"],
        "lines": n["line"],
        "trafos": n["trafo"],
        "switches": n["switch"],
        "loads": n["load"],
        "sgens": n["sgen"],
        "gens": n["gen"],
        "ext_grids": len(net.ext_grid),
        "switchable_lines": problem.m if problem is not None else 0,
        "loops": problem.n_loops if problem is not None else None,
        "radial_capable": problem is not None,
        "not_radial_capable_because": reason,
    }


def build_problem(net: Any, all_lines: bool, source: str) -> tuple[Any, str | None]:
    """The reconfiguration problem of ``net``, or ``None`` and why it is not radial-capable."""
    from gridtwin.controllers.reconfig import Problem

    try:
        return Problem.from_net(net, all_lines_switchable=all_lines, source=source), None
    except InputError as exc:
        return None, str(exc.field + ": " + exc.message if exc.field else exc.message)


@dataclass
class NetEntry:
    """One network's in-memory models."""

    net: Any
    problem: Any
    reason: str | None
    all_lines_switchable: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    engine: Any = None

    def require_problem(self, field_name: str = "network_id") -> Any:
        if self.problem is None:
            raise ApiError(422, field_name, f"the network is not radial-capable ({self.reason})")
        return self.problem

    def power_flow_engine(self) -> Any:
        from gridtwin.grid.factory import make_engine

        if self.engine is None:
            has_gen = len(self.net.gen) and self.net.gen["in_service"].astype(bool).any()
            name = "pandapower" if has_gen else "power-grid-model"
            self.engine = make_engine(name, self.net)
        return self.engine


class NetCache:
    """Networks by id, loaded from their files on first use."""

    def __init__(self) -> None:
        self._entries: dict[str, NetEntry] = {}
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def put(self, network_id: str, entry: NetEntry) -> None:
        with self._lock:
            self._entries[network_id] = entry

    def drop(self, network_id: str) -> None:
        with self._lock:
            self._entries.pop(network_id, None)

    def get(self, network_id: str, path: Path, all_lines: bool) -> NetEntry:
        with self._lock:
            hit = self._entries.get(network_id)
            loading = self._loading.setdefault(network_id, threading.Lock())
        if hit is not None:
            return hit
        with loading:
            with self._lock:
                hit = self._entries.get(network_id)
            if hit is not None:
                return hit
            from gridtwin.grid.sources import normalize_net, read_net_json

            net = normalize_net(read_net_json(path), network_id)
            problem, reason = build_problem(net, all_lines, network_id)
            entry = NetEntry(net, problem, reason, all_lines)
            self.put(network_id, entry)
            return entry


def net_to_json(net: Any) -> str:
    """The pandapower JSON text of a net."""
    import pandapower as pp

    buf = io.StringIO()
    buf.write(pp.to_json(net))
    return buf.getvalue()
