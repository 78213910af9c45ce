"""A sweep's plan: the base scenario, every variant's scenario, all checked before any run."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gridtwin.errors import InputError
from gridtwin.sweeps.axes import Point, Variant, axis_dimension, combine, set_path, zip_dimension
from gridtwin.sweeps.spec import SweepSpec, load_sweep

__all__ = ["Job", "Plan", "make_plan"]


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker needs for one variant (small and picklable).

    Attributes
    ----------
    id : str
        The variant id (its run directory's name).
    data : dict
        The variant's scenario as a dictionary.
    base_dir : str
        Folder that relative paths in the scenario are resolved against.
    source : str
        Names the variant in error messages.
    run_dir : str
        The variant's run directory.
    digest : str
        Digest of ``data``: a finished run directory with another digest is rerun.
    report : bool
        Write report.html after the run.
    """

    id: str
    data: dict[str, Any]
    base_dir: str
    source: str
    run_dir: str
    digest: str
    report: bool


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked sweep: its spec, variants (in plan order) and jobs."""

    path: Path
    spec: SweepSpec
    name: str
    out_dir: Path
    columns: list[str]
    variants: list[Variant]
    jobs: list[Job]


def _read_base(spec: SweepSpec, path: Path) -> tuple[Path, dict[str, Any]]:
    from gridtwin.scenario import load_scenario
    from gridtwin.scenario.loading import StrictLoader

    base = (path.parent / spec.base).resolve()
    if not base.is_file():
        raise InputError(
            str(path), "base", f"no scenario file {spec.base!r} next to the sweep file"
        )
    load_scenario(base)  # the base's own errors name the base file
    return base, yaml.load(base.read_text(encoding="utf-8"), Loader=StrictLoader)


def _dimensions(spec: SweepSpec, data: dict[str, Any], where: str) -> list[list[Point]]:
    from gridtwin.sweeps import generators as gen

    dims = [axis_dimension(p, v, "axes") for p, v in spec.axes.items()]
    dims.append(zip_dimension(spec.zip))
    dims.append(gen.seed_dimension(spec.seeds))
    g = spec.generate
    if g.faults is not None:
        dims.append(
            gen.fault_dimension(g.faults, _base_net(data, where), data.get("events", []), where)
        )
    if g.weeks is not None:
        dims.append(gen.week_dimension(g.weeks, data.get("time", {}).get("start", ""), where))
    if g.random is not None:
        dims.append(gen.random_dimension(g.random))
    return dims


def _base_net(data: dict[str, Any], where: str) -> Any:
    from gridtwin.grid.sources import load_net
    from gridtwin.scenario import scenario_from_dict

    scenario = scenario_from_dict(data, source=where)
    return load_net(scenario.grid, where)


def _origin(field: str, origin: dict[str, str]) -> str | None:
    """The sweep-file key that set the scenario field an error names (longest prefix)."""
    norm = field.replace("[", ".").replace("]", "")
    hits = [p for p in origin if norm == p or norm.startswith(p + ".")]
    return origin[max(hits, key=len)] if hits else None


def _variant_data(base: dict[str, Any], spec: SweepSpec, variant: Variant, where: str) -> dict:
    data = copy.deepcopy(base)
    origin = {p: f"set.{p}" for p in spec.set} | variant.origin
    for path, value in list(spec.set.items()) + list(variant.assign.items()):
        try:
            set_path(data, path, value)
        except KeyError as exc:
            raise InputError(
                where, origin[path], f"{exc.args[0]}; expected a scenario field"
            ) from None
    return data


def _check(data: dict[str, Any], variant: Variant, spec: SweepSpec, where: str, base_dir: Path):
    from gridtwin.scenario import scenario_from_dict

    origin = {p: f"set.{p}" for p in spec.set} | variant.origin
    try:
        scenario_from_dict(data, source=where, base_dir=base_dir)
    except InputError as exc:
        key = _origin(exc.field, origin) or ", ".join(sorted(set(variant.origin.values())))
        message = f"variant {variant.id}: {exc.field}: {exc.message}"
        raise InputError(where, key or "set", message) from None


def make_plan(path: str | Path, out_dir: str | Path | None = None) -> Plan:
    """Read a sweep file and check every variant's scenario against the schema.

    Raises
    ------
    InputError
        One line naming the sweep file and the field of the sweep file (or the
        base scenario and its field) that is wrong.
    """
    path = Path(path)
    spec = load_sweep(path)
    base_path, base = _read_base(spec, path)
    where = str(path)
    variants = combine(_dimensions(spec, base, where))
    seen: dict[str, int] = {}
    for i, v in enumerate(variants):
        if v.id in seen:
            raise InputError(
                where,
                "axes",
                f"variants {seen[v.id]} and {i} are the same; expected distinct values",
            )
        seen[v.id] = i
    name = spec.name or path.stem
    out = Path(out_dir) if out_dir is not None else Path("runs") / "sweeps" / name
    out = out.resolve()
    columns = list(dict.fromkeys(c for v in variants for c in v.columns))
    jobs = []
    for variant in variants:
        data = _variant_data(base, spec, variant, where)
        _check(data, variant, spec, where, base_path.parent)
        blob = json.dumps(data, sort_keys=True, default=str).encode("utf-8")
        digest = hashlib.sha1(blob, usedforsecurity=False).hexdigest()
        jobs.append(
            Job(
                variant.id,
                data,
                str(base_path.parent),
                f"{path.name} variant {variant.id}",
                str(out / "runs" / variant.id),
                digest,
                spec.report == "all",
            )
        )
    return Plan(path, spec, name, out, columns, variants, jobs)
