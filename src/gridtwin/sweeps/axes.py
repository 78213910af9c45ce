"""Axes and variants: values set by dotted scenario path, combined as a grid or zipped.

A *dimension* is a list of :class:`Point` (the columns it adds to the table and
the scenario fields it sets); the variants are the product of all dimensions.
A variant's id is a digest of its columns and fields, so it does not depend on
the order of the variants or on the number of workers.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from gridtwin.redact import redact_text

__all__ = [
    "Point",
    "Variant",
    "axis_dimension",
    "combine",
    "set_path",
    "zip_dimension",
]

_SLUG = re.compile(r"[^A-Za-z0-9_.=-]+")


@dataclass(frozen=True, slots=True)
class Point:
    """One value of one dimension.

    Attributes
    ----------
    columns : dict
        Column name -> scalar shown in the table (a label, a line name, a seed).
    assign : dict
        Dotted scenario path -> value set in the variant's scenario.
    origin : dict
        Dotted scenario path -> where in the sweep file the value came from.
    """

    columns: dict[str, Any]
    assign: dict[str, Any]
    origin: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Variant:
    """One run of the sweep: its id, table columns and the fields it sets."""

    id: str
    columns: dict[str, Any]
    assign: dict[str, Any]
    origin: dict[str, str]


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at the dotted ``path`` of a scenario dict (integers index lists).

    Missing mappings on the way are created; an index past a list's end raises
    :class:`KeyError` with the part of the path that does not exist.
    """
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(f"{'.'.join(parts[: i + 1])}: no such list item (have {len(node)})")
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
            if not last and not isinstance(node.get(key), dict | list):
                node[key] = {}
        else:
            raise KeyError(f"{'.'.join(parts[:i])}: not a mapping or list")
        if last:
            node[key] = copy.deepcopy(value)
        else:
            node = node[key]


def _labelled(values: list[Any] | dict[str, Any]) -> list[tuple[Any, Any]]:
    """(column value, scenario value) pairs: labels for a mapping, the values for a list.

    A column value is shown (table, page, variant id, run directory name): a password in
    it (a URL's ``user:password@``) is replaced by ``***``; the scenario value keeps it.
    """
    if isinstance(values, dict):
        return [(redact_text(str(k)), v) for k, v in values.items()]
    scalar = all(v is None or isinstance(v, bool | int | float | str) for v in values)
    one_type = len({type(v) for v in values if v is not None}) <= 1
    if scalar and one_type:
        return [(redact_text(v) if isinstance(v, str) else v, v) for v in values]
    return [(redact_text(json.dumps(v, sort_keys=True)), v) for v in values]


def axis_dimension(path: str, values: list[Any] | dict[str, Any], section: str) -> list[Point]:
    """One grid axis: a point per value."""
    return [
        Point({path: col}, {path: val}, {path: f"{section}.{path}[{i}]"})
        for i, (col, val) in enumerate(_labelled(values))
    ]


def zip_dimension(axes: dict[str, list[Any] | dict[str, Any]]) -> list[Point]:
    """Zipped axes: the i-th values of every axis together."""
    if not axes:
        return []
    columns = {path: _labelled(values) for path, values in axes.items()}
    n = len(next(iter(columns.values())))
    return [
        Point(
            {p: columns[p][i][0] for p in axes},
            {p: columns[p][i][1] for p in axes},
            {p: f"zip.{p}[{i}]" for p in axes},
        )
        for i in range(n)
    ]


def variant_id(columns: dict[str, Any], assign: dict[str, Any]) -> str:
    """A readable, deterministic id: short labels plus a digest of the columns and fields."""
    blob = redact_text(json.dumps({"c": columns, "a": assign}, sort_keys=True, default=str))
    digest = hashlib.sha1(blob.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    labels = "_".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in columns.items())
    slug = _SLUG.sub("-", labels)[:60].strip("-_")
    return f"{slug}_{digest}" if slug else digest


def combine(dimensions: list[list[Point]]) -> list[Variant]:
    """Every combination of one point per dimension, in the order of the dimensions."""
    variants = []
    for points in itertools.product(*[d for d in dimensions if d]):
        columns: dict[str, Any] = {}
        assign: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for point in points:
            columns.update(point.columns)
            assign.update(point.assign)
            origin.update(point.origin)
        variants.append(Variant(variant_id(columns, assign), columns, assign, origin))
    return variants
