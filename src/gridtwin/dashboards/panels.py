"""Building blocks of Grafana dashboards (JSON as dicts) over the gridtwin InfluxDB schema.

Every query is raw InfluxQL with Grafana's macros (``$timeFilter``,
``$__interval``) and the template variables ``$run``, ``$feeder``, ``$bus``
and ``$line``, so that InfluxDB 1.x, 2.x (v1 compatibility) and 3.x answer
it. :func:`run_filter` is the ``WHERE`` head every query starts with.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BUS",
    "DATASOURCE",
    "DATASOURCE_UID",
    "FEEDER",
    "LINE",
    "G",
    "annotation_events",
    "bus_var",
    "dashboard",
    "feeder_var",
    "heatmap",
    "kind",
    "line_var",
    "query",
    "run_filter",
    "run_var",
    "stat",
    "state_timeline",
    "table",
    "tag_variable",
    "timeseries",
]

DATASOURCE_UID = "gridtwin-influxdb"
DATASOURCE = {"type": "influxdb", "uid": DATASOURCE_UID}


def run_filter(*more: str) -> str:
    """``WHERE "run_id" =~ /^$run$/ AND <more> AND $timeFilter``."""
    return " AND ".join(['WHERE "run_id" =~ /^$run$/', *more, "$timeFilter"])


def query(text: str, ref: str = "A", alias: str | None = None, fmt: str = "time_series") -> dict:
    """One raw InfluxQL target."""
    target: dict[str, Any] = {
        "refId": ref,
        "datasource": DATASOURCE,
        "query": text,
        "rawQuery": True,
        "resultFormat": fmt,
    }
    if alias:
        target["alias"] = alias
    return target


def _panel(kind: str, title: str, targets: list[dict], grid: tuple[int, int, int, int]) -> dict:
    x, y, w, h = grid
    return {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": targets,
    }


def timeseries(
    title: str,
    targets: list[dict],
    grid: tuple[int, int, int, int],
    *,
    unit: str = "none",
    description: str = "",
    overrides: list[dict] | None = None,
    interpolation: str = "linear",
) -> dict:
    """A time-series panel."""
    panel = _panel("timeseries", title, targets, grid)
    panel["description"] = description
    panel["fieldConfig"] = {
        "defaults": {
            "unit": unit,
            "custom": {"lineInterpolation": interpolation, "spanNulls": True, "fillOpacity": 0},
        },
        "overrides": overrides or [],
    }
    panel["options"] = {
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "none"},
    }
    return panel


def heatmap(
    title: str, target: dict, grid: tuple[int, int, int, int], *, unit: str, description: str = ""
) -> dict:
    """A heat map with one row per series (e.g. bus by time)."""
    panel = _panel("heatmap", title, [target], grid)
    panel["description"] = description
    panel["transformations"] = [
        {"id": "joinByField", "options": {"byField": "Time", "mode": "outer"}}
    ]
    panel["options"] = {
        "calculate": False,
        "cellGap": 0,
        "color": {"mode": "scheme", "scheme": "RdYlBu", "reverse": True, "steps": 64},
        "yAxis": {"axisPlacement": "left", "unit": "none"},
        "rowsFrame": {"layout": "auto"},
        "cellValues": {"unit": unit},
        "tooltip": {"show": True, "yHistogram": False},
        "legend": {"show": True},
    }
    return panel


def stat(title: str, targets: list[dict], grid: tuple[int, int, int, int], *, unit: str) -> dict:
    """A single-number panel."""
    panel = _panel("stat", title, targets, grid)
    panel["fieldConfig"] = {"defaults": {"unit": unit, "decimals": 3}, "overrides": []}
    panel["options"] = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value",
        "graphMode": "none",
        "textMode": "value_and_name",
    }
    return panel


def state_timeline(title: str, targets: list[dict], grid: tuple[int, int, int, int]) -> dict:
    """A state timeline (switch positions, chi-square status)."""
    panel = _panel("state-timeline", title, targets, grid)
    panel["fieldConfig"] = {
        "defaults": {
            "color": {"mode": "thresholds"},
            "thresholds": {
                "mode": "absolute",
                "steps": [{"color": "red", "value": None}, {"color": "green", "value": 0.5}],
            },
            "mappings": [{"type": "value", "options": {"0": {"text": "no"}, "1": {"text": "yes"}}}],
        },
        "overrides": [],
    }
    panel["options"] = {"mergeValues": True, "showValue": "never", "rowHeight": 0.8}
    return panel


def table(title: str, targets: list[dict], grid: tuple[int, int, int, int]) -> dict:
    """A table of raw rows."""
    panel = _panel("table", title, targets, grid)
    panel["options"] = {"showHeader": True}
    return panel


def tag_variable(
    name: str, label: str, text: str, *, include_all: bool = False, multi: bool = False
) -> dict:
    """A query template variable over tag values (``SHOW TAG VALUES ...``)."""
    var: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": text,
        "definition": text,
        "refresh": 2,  # on time range change
        "sort": 3,  # numerical-aware alphabetical
        "includeAll": include_all,
        "multi": multi,
        "current": {},
        "options": [],
        "hide": 0,
    }
    if include_all:
        var["allValue"] = ".*"
    return var


def annotation_events() -> dict:
    """The run's events as annotations (text: type, target, parameters)."""
    text = 'SELECT "text" FROM "event" ' + run_filter()
    return {
        "name": "events",
        "datasource": DATASOURCE,
        "enable": True,
        "iconColor": "orange",
        "query": text,
        "textColumn": "text",
        "tagsColumn": "type",
    }


def dashboard(
    uid: str, title: str, description: str, panels: list[dict], variables: list[dict]
) -> dict:
    """A whole dashboard: panels numbered, the events annotation, the template variables."""
    for i, panel in enumerate(panels, start=1):
        panel["id"] = i
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["gridtwin"],
        "timezone": "utc",
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "10s",
        "time": {"from": "2016-06-20T23:00:00.000Z", "to": "2016-06-21T23:00:00.000Z"},
        "timepicker": {},
        "graphTooltip": 1,
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                },
                annotation_events(),
            ]
        },
        "templating": {"list": variables},
        "panels": panels,
    }


G = "GROUP BY time($__interval)"
"""The GROUP BY head of every time-series query."""
FEEDER = '"feeder" =~ /^$feeder$/'
BUS = '"element" =~ /^$bus$/'
LINE = '"element" =~ /^$line$/'


def kind(kind: str) -> str:
    """The filter on tag ``kind`` (tables that share a measurement)."""
    return f"\"kind\" = '{kind}'"


def run_var() -> dict:
    """The template variable ``$run``."""
    return tag_variable("run", "run", 'SHOW TAG VALUES FROM "grid" WITH KEY = "run_id"')


def feeder_var() -> dict:
    """The template variable ``$feeder``."""
    return tag_variable(
        "feeder",
        "feeder",
        'SHOW TAG VALUES FROM "bus" WITH KEY = "feeder" WHERE "run_id" =~ /^$run$/',
        include_all=True,
        multi=True,
    )


def bus_var(multi: bool = True) -> dict:
    """The template variable ``$bus`` (buses of the chosen feeders)."""
    return tag_variable(
        "bus",
        "bus",
        'SHOW TAG VALUES FROM "bus" WITH KEY = "element" WHERE "run_id" =~ /^$run$/ AND ' + FEEDER,
        multi=multi,
    )


def line_var() -> dict:
    """The template variable ``$line``."""
    return tag_variable(
        "line",
        "line",
        'SHOW TAG VALUES FROM "line" WITH KEY = "element" WHERE "run_id" =~ /^$run$/ AND ' + FEEDER,
        multi=True,
    )
