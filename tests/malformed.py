"""Generators of malformed input, shared by the property tests and the malformed-input sweep.

- :func:`full_scenario`: a valid scenario with every section (schema level: no network
  is loaded for it), the base every mutation starts from;
- :func:`numeric_paths`: every numeric field of the schema, found by walking the pydantic
  models (a new section is covered without touching this file);
- :func:`set_path` / :func:`yaml_with_duplicate`: mutate a scenario dict or its YAML text.
"""

from __future__ import annotations

import copy
import enum
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from gridtwin.scenario import Scenario

PEAK_SHAVING = Path(__file__).resolve().parents[1] / "examples" / "peak_shaving.py"
"""A user's automation function (absolute path: the sweep writes scenarios to temp folders)."""

BAD_NUMBERS = [float("inf"), float("-inf"), float("nan"), True, False]
"""Values refused by every numeric field: non-finite numbers and booleans."""


def full_scenario() -> dict[str, Any]:
    """A valid scenario using every section (checked by the schema only)."""
    return {
        "name": "full",
        "seed": 3,
        "time": {
            "start": "2016-06-21T00:00:00+01:00",
            "duration": "2h",
            "step": "15min",
            "real_time_factor": 1.0,
        },
        "grid": {"pandapower": "case33bw"},
        "profiles": {"source": "none", "load_scale": 1.0, "sgen_scale": 1.0},
        "events": [{"at": "30min", "type": "load_scale", "target": "all", "factor": 1.2}],
        "recording": {
            "flush_every_steps": 10,
            "influx": {"url": "http://localhost:8086", "batch_points": 10},
        },
        "measurements": {
            "seed": 4,
            "classes": {
                "scada": {"accuracy_percent": 1.0, "dropout_probability": 0.1},
                "smart_meter": {"sigma_abs": 0.01, "latency_s": "15min", "interval_s": "15min"},
            },
            "plan": [
                {"device": "scada", "at": "substation"},
                {"device": "smart_meter", "at": "every_nth_bus", "n": 2},
                {"device": "smart_meter", "at": "loads", "share": 0.5, "active_from": "15min"},
            ],
        },
        "estimation": {"chi2_confidence": 0.95, "lnr_threshold": 3.0, "max_bad_data_removals": 2},
        "voltage_control": {
            "band_mv_pu": [0.95, 1.05],
            "band_lv_pu": [0.9, 1.1],
            "oltc": {"set_point_pu": 1.0, "dead_band_pu": 0.01, "ldc_r_pu": 0.0, "ldc_x_pu": 0.0},
            "local": {
                "response_time_s": 5.0,
                "q_u": {"v_pu": [0.9, 1.1], "y_pu": [0.4, -0.4]},
                "p_u": {"v_pu": [1.05, 1.1], "y_pu": [1.0, 0.0]},
            },
            "central": {"interval": "15min", "margin_pu": 0.01, "q_limit_pu": 0.4},
        },
        "reconfiguration": {
            "every": "1h",
            "horizon": "2h",
            "period": "1h",
            "loss_cost_per_mwh": 50.0,
            "reliability": 1.0,
            "switching_cost": 1.0,
            "violation_cost_per_percent_h": 1.0,
            "max_evaluations": 10,
            "time_limit_s": 5.0,
            "vm_min_pu": 0.9,
            "vm_max_pu": 1.1,
            "max_loading_percent": 100.0,
            "seed": 5,
            "all_lines_switchable": True,  # case33bw has no line switches
        },
        "forecasting": {
            "model": "persistence",
            "quantiles": [0.1, 0.5, 0.9],
            "latitude": 50.0,
            "longitude": 8.0,
            "seed": 6,
        },
        "flisr": {"vm_min_pu": 0.9, "vm_max_pu": 1.1, "max_loading_percent": 100.0},
        "limits": {"max_steps": 1000, "max_store_gb": 1.0},
        "commands": {"latency": "0s", "loss_probability": 0.1, "seed": 7},
        "scada": {"meter_accuracy": 0.02, "seed": 8},
        "mqtt": {
            "url": "mqtt://localhost:1883",
            "qos": 1,
            "max_lateness_s": 60.0,
            "max_queued": 100,
            "max_pending_commands": 100,
            "connect_wait_s": 1.0,
            "keepalive_s": 10,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 1.0,
        },
        "functions": [{"use": f"{PEAK_SHAVING}:PeakShaving", "params": {"export_limit_mw": 1.0}}],
    }


def _unwrap(annotation: Any) -> list[Any]:
    """The members of a union/optional (the annotation itself otherwise)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_numeric(annotation: Any) -> bool:
    found: set[Any] = set()
    stack = [annotation]
    while stack:
        item = stack.pop()
        if item in (int, float, bool):
            found.add(item)
        if typing.get_origin(item) is not None or isinstance(item, types.UnionType):
            stack.extend(typing.get_args(item))
    return bool(found & {int, float}) and bool not in found


def _leaf(member: Any, sub: Any, here: tuple[Any, ...], out: list[tuple[Any, ...]]) -> bool:
    """Record the numeric leaves of one union member of a field; whether it matched."""
    origin, args = typing.get_origin(member), typing.get_args(member)
    if _is_model(member):
        if isinstance(sub, dict):
            _walk(member, sub, here, out)
    elif origin is list and args and _is_model(args[0]):
        for i, item in enumerate(sub or []):
            _walk(args[0], item, (*here, i), out)
    elif origin is dict and len(args) == 2 and _is_model(args[1]):
        for key, item in (sub or {}).items():
            _walk(args[1], item, (*here, key), out)
    elif origin in (list, tuple) and _is_numeric(member):
        if isinstance(sub, list | tuple) and sub:
            out.append((*here, 0))
    elif _is_numeric(member) and not (isinstance(member, type) and issubclass(member, enum.Enum)):
        out.append(here)
    else:
        return False
    return True


def _walk(
    model: type[BaseModel], node: dict[str, Any], path: tuple[Any, ...], out: list[tuple[Any, ...]]
) -> None:
    for name, field in model.model_fields.items():
        for member in _unwrap(field.annotation):
            if _leaf(member, node.get(name), (*path, name), out):
                break


def numeric_paths(data: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Every numeric field reachable in ``data`` (default :func:`full_scenario`), as key paths.

    A path is a tuple of keys and list indices, e.g. ``("measurements", "plan", 1, "n")``.
    Lists and tuples of numbers give a path to their first item.
    """
    out: list[tuple[Any, ...]] = []
    _walk(Scenario, full_scenario() if data is None else data, (), out)
    return sorted(set(out), key=str)


def set_path(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the item at ``path`` set to ``value`` (mappings made as needed)."""
    data = copy.deepcopy(data)
    node: Any = data
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    node[path[-1]] = value
    return data


def field_text(path: tuple[Any, ...]) -> str:
    """How a message names ``path``: ``measurements.plan[1].n``; a list item names its list."""
    if (
        isinstance(path[-1], int)
        and not isinstance(path[-2], int)
        and path[-2]
        not in (
            "events",
            "plan",
        )
    ):
        path = path[:-1]
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def yaml_with_duplicate(data: dict[str, Any], path: tuple[str, ...]) -> str:
    """YAML text of ``data`` in which the mapping at ``path[:-1]`` gives key ``path[-1]`` twice."""
    lines: list[str] = []

    def emit(node: Any, indent: int, at: tuple[str, ...]) -> None:
        pad = " " * indent
        for key, value in node.items():
            here = (*at, key)
            times = 2 if here == path else 1
            for _ in range(times):
                if isinstance(value, dict) and value:
                    lines.append(f"{pad}{key}:")
                    emit(value, indent + 2, here)
                else:
                    flow = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
                    flow = flow.removesuffix("\n...").removesuffix("...").strip()
                    lines.append(f"{pad}{key}: {flow}")

    emit(data, 0, ())
    return "\n".join(lines) + "\n"


def mapping_paths(data: dict[str, Any], at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of nested mappings (not inside lists) in ``data``."""
    out = []
    for key, value in data.items():
        out.append((*at, key))
        if isinstance(value, dict):
            out.extend(mapping_paths(value, (*at, key)))
    return out


def _field_at(path: tuple[Any, ...]) -> tuple[str, Any]:
    """The name and pydantic FieldInfo of the field at ``path`` of a scenario."""
    model: Any = Scenario
    name, info, mapping = "", None, False
    for key in path:
        if isinstance(key, int) or mapping or model is None:
            mapping = False  # a list item or a mapping's key: same model
            continue
        name, info = str(key), model.model_fields[key]
        model = None
        for member in _unwrap(info.annotation):
            args = typing.get_args(member)
            mapping = mapping or (typing.get_origin(member) is dict)
            for candidate in (member, *args):
                if _is_model(candidate):
                    model = candidate
    return name, info


def _is_bounded_duration(info: Any) -> bool:
    from gridtwin.scenario import base

    funcs = {base._duration, base._positive_duration}
    items = list(info.metadata)
    for member in _unwrap(info.annotation):
        items.extend(typing.get_args(member)[1:])
    return any(getattr(item, "func", None) in funcs for item in items)


def time_paths(data: dict[str, Any] | None = None) -> list[tuple[tuple[Any, ...], Any]]:
    """Every duration or ``*_s`` field of the schema, with a value just above its bound.

    Durations (``15min``, ``1d``) are bounded by ``MAX_DURATION_S``; a float ``*_s`` field
    is a wall-clock wait (bounded by ``MAX_WAIT_S``) or a time constant: 1e12 s (31,700
    years) is above both. The length of the run (``time.duration``) has its own checks.
    """
    from gridtwin.scenario.base import MAX_DURATION_S

    out = []
    for path in numeric_paths(data):
        name, info = _field_at(path)
        if _is_bounded_duration(info):
            out.append((path, f"{MAX_DURATION_S // 86400 + 1}d"))
        elif name.endswith("_s"):
            out.append((path, 1e12))
    return out


def every_element_net() -> Any:
    """pandapower's ``example_simple`` (bus, line, trafo, load, sgen, gen, shunt, switch,
    ext_grid) plus one element of every other table the checks have rules for."""
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.example_simple()
    mv = int(net.bus.index[net.bus["vn_kv"] == 20.0][-1])
    lv1, lv2 = (pp.create_bus(net, 0.4, name=f"lv{i}") for i in (1, 2))
    pp.create_transformer3w_from_parameters(
        net, mv, lv1, lv2, 20.0, 0.4, 0.4, 0.63, 0.4, 0.4, 6.0, 6.0, 6.0, 1.0, 1.0, 1.0, 1.0, 0.1
    )  # fmt: skip
    pp.create_storage(net, mv, p_mw=0.1, max_e_mwh=1.0)
    pp.create_ward(net, mv, 0.1, 0.05, 0.01, 0.01)
    pp.create_xward(net, mv, 0.1, 0.05, 0.01, 0.01, 0.1, 0.1, 1.0)
    pp.create_motor(net, mv, 0.1, 0.9)
    pp.create_asymmetric_load(net, mv, 0.01, 0.01, 0.01)
    pp.create_asymmetric_sgen(net, mv, 0.01, 0.01, 0.01)
    mv2 = pp.create_bus(net, 20.0, name="mv2")
    pp.create_impedance(net, mv, mv2, 0.01, 0.01, 1.0)
    pp.create_dcline(net, mv, mv2, 0.1, 1.0, 0.01, 1.0, 1.0)
    return net


NET_VIOLATION = {"pos": -1.0, "nonneg": -1.0, "finite": float("inf"), "ge1": 0.0}
"""A value that breaks each kind of network parameter rule."""


def net_mutations(base: Any) -> list[tuple[str, Any, str, str]]:
    """Every network check broken once: ``(name, net, field, engine)``.

    One case per parameter rule (``RULES``; the last row of the table), per bus reference
    (``BUS_REFS``: bus 99999) and per table power-grid-model cannot solve (``NOT_IN_PGM``,
    with engine ``""``: the default, power-grid-model). The other cases are meant for
    ``engine: pandapower``, under which ``base`` (:func:`every_element_net`) is valid.
    """
    import copy as _copy

    from gridtwin.grid.checks import BUS_REFS, NOT_IN_PGM, RULES

    out = []
    for table, column, kind, _required in RULES:
        net = _copy.copy(base)
        net[table] = base[table].copy()
        if column not in net[table]:
            net[table][column] = float("nan")
        net[table][column] = net[table][column].astype(float)
        index = net[table].index[-1]
        net[table].loc[index, column] = NET_VIOLATION[kind]
        out.append((f"net {table}.{column}", net, f"{table}[{index}].{column}", "pandapower"))
    for table, columns in BUS_REFS.items():
        for column in columns:
            net = _copy.copy(base)
            net[table] = base[table].copy()
            index = net[table].index[-1]
            net[table].loc[index, column] = 99999
            name = f"net {table}.{column}=99999"
            out.append((name, net, f"{table}[{index}].{column}", "pandapower"))
    for table in NOT_IN_PGM:
        net = _copy.copy(base)
        for other in NOT_IN_PGM:
            if other != table:
                net[other] = base[other].iloc[0:0]
        field = f"{table}[{base[table].index[0]}]"
        out.append((f"net {table} on power-grid-model", net, field, ""))
    return out
