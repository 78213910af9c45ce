"""Physical plausibility of a network's element parameters, checked once at load.

power-grid-model refuses some non-physical values late (a bus with
``vn_kv`` 0 raises ``ConflictVoltage`` in the first power flow) and both
engines solve others into nonsense without a word (a line of negative
length has negative impedance and charging). Each rule below is what the
engines need; the first value that breaks one is a one-line
:class:`~gridtwin.errors.InputError` naming the element and the column.
Rules apply to every row, in service or not (an event can switch it in).
Every element table pandapower solves and power-grid-model-io converts has
rules. Elements power-grid-model cannot model (``gen``: PV buses; ``xward``,
``impedance``, ``dcline``) are refused by :func:`check_engine_domain` when
the scenario's engine is power-grid-model, so ``validate`` refuses what
``run`` would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gridtwin.errors import InputError

__all__ = ["BUS_REFS", "NOT_IN_PGM", "RULES", "check_engine_domain", "check_physical"]

BUS_REFS: dict[str, tuple[str, ...]] = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
    "impedance": ("from_bus", "to_bus"),
    "dcline": ("from_bus", "to_bus"),
    "switch": ("bus",),
    **{
        table: ("bus",)
        for table in (
            "load",
            "sgen",
            "gen",
            "storage",
            "shunt",
            "ext_grid",
            "ward",
            "xward",
            "motor",
            "asymmetric_load",
            "asymmetric_sgen",
        )
    },
}
"""The columns of each element table that name a bus (an index of the bus table)."""

NOT_IN_PGM: dict[str, tuple[bool, str]] = {
    "gen": (True, "a voltage-controlled generator (PV bus) in service; power-grid-model has none"),
    "xward": (False, "an extended ward in the network; power-grid-model does not model it"),
    "impedance": (False, "an impedance element in the network; power-grid-model does not model it"),
    "dcline": (False, "a DC line in the network; power-grid-model does not model it"),
}
"""Tables power-grid-model cannot solve: (only rows in service matter, what the row is)."""

# (table, column, rule, required): rule "pos" > 0, "nonneg" >= 0, "finite", "ge1" >= 1;
# a column not required may be missing or NaN (pandapower's "not set").
RULES: tuple[tuple[str, str, str, bool], ...] = (
    ("bus", "vn_kv", "pos", True),
    ("line", "length_km", "pos", True),
    ("line", "r_ohm_per_km", "nonneg", True),
    ("line", "x_ohm_per_km", "nonneg", True),
    ("line", "c_nf_per_km", "nonneg", True),
    ("line", "g_us_per_km", "nonneg", False),
    ("line", "max_i_ka", "pos", True),
    ("line", "parallel", "ge1", False),
    ("trafo", "sn_mva", "pos", True),
    ("trafo", "vn_hv_kv", "pos", True),
    ("trafo", "vn_lv_kv", "pos", True),
    ("trafo", "vk_percent", "pos", True),
    ("trafo", "vkr_percent", "nonneg", True),
    ("trafo", "pfe_kw", "nonneg", True),
    ("trafo", "i0_percent", "nonneg", True),
    ("trafo", "shift_degree", "finite", False),
    ("trafo", "tap_step_percent", "finite", False),  # a negative step reverses the direction
    ("trafo", "parallel", "ge1", False),
    ("load", "p_mw", "finite", True),
    ("load", "q_mvar", "finite", True),
    ("load", "scaling", "nonneg", False),
    ("load", "sn_mva", "nonneg", False),
    ("sgen", "p_mw", "finite", True),
    ("sgen", "q_mvar", "finite", True),
    ("sgen", "scaling", "nonneg", False),
    ("sgen", "sn_mva", "nonneg", False),
    ("storage", "p_mw", "finite", True),
    ("storage", "max_e_mwh", "nonneg", False),
    ("ext_grid", "vm_pu", "pos", True),
    ("ext_grid", "va_degree", "finite", True),
    ("ext_grid", "s_sc_max_mva", "pos", False),
    ("ext_grid", "rx_max", "nonneg", False),
    ("switch", "z_ohm", "nonneg", False),
    ("gen", "p_mw", "finite", True),
    ("gen", "vm_pu", "pos", True),
    ("gen", "sn_mva", "nonneg", False),
    ("gen", "scaling", "nonneg", False),
    ("shunt", "p_mw", "finite", True),
    ("shunt", "q_mvar", "finite", True),
    ("shunt", "vn_kv", "pos", True),
    ("shunt", "step", "nonneg", False),
    ("shunt", "max_step", "ge1", False),
    ("ward", "ps_mw", "finite", True),
    ("ward", "qs_mvar", "finite", True),
    ("ward", "pz_mw", "finite", True),
    ("ward", "qz_mvar", "finite", True),
    ("xward", "ps_mw", "finite", True),
    ("xward", "qs_mvar", "finite", True),
    ("xward", "pz_mw", "finite", True),
    ("xward", "qz_mvar", "finite", True),
    ("xward", "r_ohm", "nonneg", True),
    ("xward", "x_ohm", "pos", True),
    ("xward", "vm_pu", "pos", True),
    ("motor", "pn_mech_mw", "nonneg", True),
    ("motor", "cos_phi", "pos", True),
    ("motor", "efficiency_percent", "pos", False),
    ("motor", "loading_percent", "nonneg", False),
    ("motor", "scaling", "nonneg", False),
    *(
        (table, column, "finite", True)
        for table in ("asymmetric_load", "asymmetric_sgen")
        for column in ("p_a_mw", "q_a_mvar", "p_b_mw", "q_b_mvar", "p_c_mw", "q_c_mvar")
    ),
    ("asymmetric_load", "scaling", "nonneg", False),
    ("asymmetric_sgen", "scaling", "nonneg", False),
    *(("trafo3w", f"sn_{w}_mva", "pos", True) for w in ("hv", "mv", "lv")),
    *(("trafo3w", f"vn_{w}_kv", "pos", True) for w in ("hv", "mv", "lv")),
    *(("trafo3w", f"vk_{w}_percent", "pos", True) for w in ("hv", "mv", "lv")),
    *(("trafo3w", f"vkr_{w}_percent", "nonneg", True) for w in ("hv", "mv", "lv")),
    ("trafo3w", "pfe_kw", "nonneg", True),
    ("trafo3w", "i0_percent", "nonneg", True),
    ("impedance", "rft_pu", "finite", True),
    ("impedance", "xft_pu", "finite", True),
    ("impedance", "sn_mva", "pos", True),
    ("dcline", "p_mw", "finite", True),
    ("dcline", "loss_percent", "nonneg", True),
    ("dcline", "loss_mw", "nonneg", True),
    ("dcline", "vm_from_pu", "pos", True),
    ("dcline", "vm_to_pu", "pos", True),
)
"""Every parameter check: the table, the column, the rule, whether the column must be set."""

_EXPECTED = {
    "pos": "a finite value above 0",
    "nonneg": "a finite value of 0 or more",
    "finite": "a finite number",
    "ge1": "a whole number of 1 or more",
}


def _bad_rows(values: np.ndarray, rule: str, required: bool) -> np.ndarray:
    unset = np.isnan(values)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):
        if rule == "pos":
            ok = finite & (values > 0)
        elif rule == "nonneg":
            ok = finite & (values >= 0)
        elif rule == "ge1":
            ok = finite & (values >= 1) & (values == np.round(values))
        else:
            ok = finite
    return ~ok if required else ~ok & ~unset


def _first_problem(net: Any) -> tuple[str, str, Any, str] | None:
    for table, column, rule, required in RULES:
        frame = net[table] if table in net else None
        if frame is None or not len(frame):
            continue
        if column not in frame:
            if required:
                return table, column, None, f"missing column; expected {_EXPECTED[rule]}"
            continue
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = _bad_rows(values, rule, required)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            shown = _show(frame[column].iloc[i])
            return table, column, frame.index[i], f"got {shown}; expected {_EXPECTED[rule]}"
    return None


def _first_row(table: str, frame: Any, bad: np.ndarray) -> Any:
    return frame.index[int(np.flatnonzero(bad)[0])]


def _show(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def _line_problem(net: Any) -> tuple[str, str, Any, str] | None:
    line = net["line"] if "line" in net else None
    if line is None or not len(line):
        return None
    z = line["r_ohm_per_km"].to_numpy(float) + line["x_ohm_per_km"].to_numpy(float)
    if (z <= 0).any():
        return (
            "line",
            "x_ohm_per_km",
            _first_row("line", line, z <= 0),
            (
                "r_ohm_per_km and x_ohm_per_km are both 0; expected a line impedance above 0 "
                "(use a bus-bus switch for a zero-impedance connection)"
            ),
        )
    loop = line["from_bus"].to_numpy() == line["to_bus"].to_numpy()
    if loop.any():
        return (
            "line",
            "to_bus",
            _first_row("line", line, loop),
            ("the same bus as from_bus; expected a line between two buses"),
        )
    return None


def _trafo_problem(net: Any, engine: str) -> tuple[str, str, Any, str] | None:
    trafo = net["trafo"] if "trafo" in net else None
    if trafo is None or not len(trafo):
        return None
    vk, vkr = trafo["vk_percent"].to_numpy(float), trafo["vkr_percent"].to_numpy(float)
    i0 = trafo["i0_percent"].to_numpy(float)
    pgm = engine == "power-grid-model"  # its domain: uk < 1 (pandapower solves such nets)
    checks = (
        ("vk_percent", (vk >= 100) & pgm, "expected less than 100 % (power-grid-model: uk < 1)"),
        ("vkr_percent", vkr > vk, "expected vkr_percent <= vk_percent"),
        ("i0_percent", i0 >= 100, "expected less than 100 %"),
        ("lv_bus", trafo["hv_bus"].to_numpy() == trafo["lv_bus"].to_numpy(), "expected two buses"),
    )
    for column, bad, expected in checks:
        if bad.any():
            index = _first_row("trafo", trafo, bad)
            return "trafo", column, index, f"got {_show(trafo[column][index])}; {expected}"
    return _tap_problem(trafo)


def _tap_problem(trafo: Any) -> tuple[str, str, Any, str] | None:
    if not {"tap_pos", "tap_min", "tap_max"} <= set(trafo.columns):
        return None
    pos, low, high = (trafo[c].to_numpy(float) for c in ("tap_pos", "tap_min", "tap_max"))
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(pos) & ~np.isnan(low) & ~np.isnan(high) & ((pos < low) | (pos > high))
    if bad.any():
        index = _first_row("trafo", trafo, bad)
        return (
            "trafo",
            "tap_pos",
            index,
            (
                f"got {_show(trafo['tap_pos'][index])}; expected a position in "
                f"[tap_min, tap_max] = [{_show(trafo['tap_min'][index])}, "
                f"{_show(trafo['tap_max'][index])}]"
            ),
        )
    return None


def _engine_problem(net: Any, engine: str) -> tuple[str, str, Any, str] | None:
    """An element the engine cannot solve (power-grid-model: PV buses, extended wards...)."""
    if engine != "power-grid-model":
        return None
    for table, (in_service_only, what) in NOT_IN_PGM.items():
        frame = net[table] if table in net else None
        if frame is None or not len(frame):
            continue
        rows = frame.index
        if in_service_only and "in_service" in frame:
            rows = frame.index[frame["in_service"].to_numpy(bool)]
        if len(rows):
            column = "in_service" if in_service_only else ""
            return table, column, rows[0], f"{what}; expected grid.engine: pandapower"
    return None


def check_physical(net: Any, source: str, engine: str = "power-grid-model") -> None:
    """Refuse element parameters the power-flow engines cannot use.

    Parameters
    ----------
    net : pandapowerNet
        The network, structure already checked (buses exist).
    source : str
        The file the network came from (or the scenario), for the message.

    Raises
    ------
    InputError
        ``SOURCE: TABLE[INDEX].COLUMN: got VALUE; expected ...`` on the first problem.
    """
    problem = _first_problem(net) or _line_problem(net) or _trafo_problem(net, engine)
    _raise(problem, source)


def check_engine_domain(net: Any, source: str, engine: str) -> None:
    """Refuse elements the scenario's engine cannot solve (:data:`NOT_IN_PGM`).

    Called where the engine is known (loading a scenario's network, for ``validate`` and
    ``run`` alike); a caller that picks the engine from the network (the API) does not.

    Raises
    ------
    InputError
        ``SOURCE: TABLE[INDEX]: ...; expected grid.engine: pandapower``.
    """
    _raise(_engine_problem(net, engine), source)


def _raise(problem: tuple[str, str, Any, str] | None, source: str) -> None:
    if problem is None:
        return
    table, column, index, message = problem
    where = f"{table}.{column}" if index is None else f"{table}[{index}]"
    if index is not None and column:
        where += f".{column}"
    raise InputError(source, where, message)
