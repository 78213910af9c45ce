"""Generated dimensions: seeds, a fault on every line, every week of the year, random draws."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gridtwin.errors import InputError
from gridtwin.sweeps.axes import Point
from gridtwin.sweeps.spec import Draw, FaultsGen, RandomGen, WeeksGen

__all__ = [
    "fault_dimension",
    "feeder_lines",
    "random_dimension",
    "seed_dimension",
    "week_dimension",
]


def seed_dimension(seeds: list[int] | None) -> list[Point]:
    """One point per seed (none: the base scenario's seed)."""
    if seeds is None:
        return []
    return [Point({"seed": s}, {"seed": s}, {"seed": f"seed[{i}]"}) for i, s in enumerate(seeds)]


def feeder_lines(net: Any) -> list[list[int]]:
    """The lines of each feeder (positions in ``net.line``), feeders ordered by head line name.

    A feeder is what hangs off a transformer's low-voltage busbar through
    closed switches: the busbars are taken out of the graph and each remaining
    connected group of lines is one feeder.
    """
    import networkx as nx
    import pandapower.topology as top

    graph = top.create_nxgraph(net, respect_switches=True, include_trafos=False)
    busbars = set(net.trafo.lv_bus.tolist()) | set(net.ext_grid.bus.tolist())
    graph.remove_nodes_from(busbars)
    group = {bus: i for i, comp in enumerate(nx.connected_components(graph)) for bus in comp}
    members: dict[int, list[int]] = {}
    for pos, (fb, tb) in enumerate(zip(net.line.from_bus, net.line.to_bus, strict=True)):
        key = group.get(fb, group.get(tb))
        if key is not None:
            members.setdefault(key, []).append(pos)
    return sorted(members.values(), key=lambda lines: str(net.line.name.iloc[lines[0]]))


def _chosen_lines(spec: FaultsGen, net: Any, names: list[str], where: str) -> list[str]:
    if spec.lines == "all":
        chosen = list(names)
    else:
        unknown = [n for n in spec.lines if n not in names]
        if unknown:
            raise InputError(where, "generate.faults.lines", f"no line {unknown[0]!r} in the grid")
        chosen = list(spec.lines)
    if spec.feeder is not None:
        feeders = [[names[p] for p in lines] for lines in feeder_lines(net)]
        if isinstance(spec.feeder, int):
            if not 1 <= spec.feeder <= len(feeders):
                raise InputError(
                    where,
                    "generate.faults.feeder",
                    f"got {spec.feeder}; expected 1 to {len(feeders)} (the grid's feeders)",
                )
            members = feeders[spec.feeder - 1]
        else:
            found = [f for f in feeders if spec.feeder in f]
            if not found:
                raise InputError(
                    where, "generate.faults.feeder", f"no feeder has a line {spec.feeder!r}"
                )
            members = found[0]
        chosen = [n for n in chosen if n in members]
    return chosen[:: spec.every]


def fault_dimension(spec: FaultsGen, net: Any, base_events: list[Any], where: str) -> list[Point]:
    """A permanent (or temporary) fault on each chosen line, repaired ``repair_after`` later."""
    from gridtwin.grid.topology import element_names
    from gridtwin.timeparse import format_duration, parse_duration_s

    names = element_names(net, "line")
    try:
        at_s = parse_duration_s(spec.at)
        repair_s = None if spec.repair_after is None else parse_duration_s(spec.repair_after)
    except ValueError as exc:
        raise InputError(where, "generate.faults", str(exc)) from None
    given = [str(n) for n in net.line.name] if "name" in net.line else []
    targets: dict[str, Any] = {
        n: (n if pos < len(given) and given[pos] == n else int(net.line.index[pos]))
        for pos, n in enumerate(names)
    }
    points = []
    for name in _chosen_lines(spec, net, names, where):
        events: list[Any] = list(base_events) if spec.keep_events else []
        target = targets[name]
        fault = {"at": format_duration(at_s), "type": "line_fault", "target": target}
        events.append({**fault, "permanent": spec.permanent})
        if repair_s is not None:
            events.append(
                {"at": format_duration(at_s + repair_s), "type": "repair", "target": target}
            )
        points.append(
            Point({"fault.line": name}, {"events": events}, {"events": "generate.faults"})
        )
    if not points:
        raise InputError(where, "generate.faults", "no line chosen; expected at least one")
    return points


def week_dimension(spec: WeeksGen, base_start: str, where: str) -> list[Point]:
    """``time.start`` at the start of each chosen week (day 7 (k - 1) of the year, 00:00)."""
    try:
        start = datetime.fromisoformat(str(base_start))
    except ValueError:
        raise InputError(
            where, "generate.weeks", "the base scenario's time.start is no ISO time"
        ) from None
    year = spec.year or start.year
    weeks = spec.weeks or list(range(1, 53, spec.every))
    first = start.replace(year=year, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    points = []
    for week in weeks:
        assign: dict[str, Any] = {
            "time.start": (first + timedelta(days=7 * (week - 1))).isoformat()
        }
        if spec.duration is not None:
            assign["time.duration"] = spec.duration
        origin = {path: f"generate.weeks[{week}]" for path in assign}
        points.append(Point({"week": week}, assign, origin))
    return points


def _draw(rng: Any, draw: Draw) -> Any:
    if draw.uniform is not None:
        return float(rng.uniform(*draw.uniform))
    if draw.normal is not None:
        return float(rng.normal(*draw.normal))
    if draw.integers is not None:
        return int(rng.integers(draw.integers[0], draw.integers[1], endpoint=True))
    choices = draw.choice or []
    return choices[int(rng.integers(0, len(choices)))]


def random_dimension(spec: RandomGen) -> list[Point]:
    """``count`` draws of every field, from a generator seeded with the sweep's own seed."""
    import numpy as np

    rng = np.random.default_rng(spec.seed)
    points = []
    for i in range(spec.count):
        values = {path: _draw(rng, draw) for path, draw in spec.draws.items()}
        origin = {path: f"generate.random.draws.{path}" for path in values}
        points.append(Point({"draw": i, **values}, values, origin))
    return points
