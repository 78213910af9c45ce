"""The run report: one self-contained HTML file built from a run directory alone.

``write_report(run_dir)`` reads kpis.json, scenario.yaml and the Parquet
tables and writes ``report.html``: the summary (the figures of the end of
``gridtwin run``), the scenario, the events, the grid's plots, then one
section per automation function that ran, found from the tables present: the
built-in functions' sections as they declare them (``report`` of their
:class:`~gridtwin.declarations.Declaration`), then one per user function with
an ``Output`` table (:mod:`gridtwin.report.sections_user`).
The plots are Bokeh figures; Bokeh's JavaScript is inlined, so the file
opens offline and asks no other host for anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gridtwin.declarations import declarations
from gridtwin.report import sections_grid as grid
from gridtwin.report import sections_realtime as rt
from gridtwin.report.page import Context, Section, page
from gridtwin.report.rundir import RunDir, open_run_dir
from gridtwin.report.sections_user import user_functions

__all__ = ["build_report_html", "write_report"]


def _context(run: RunDir) -> Context:
    start = (run.scenario.get("time") or {}).get("start")
    when = None
    if isinstance(start, str):
        try:
            when = datetime.fromisoformat(start)
        except ValueError:
            when = None
    if when is None and run.has("grid"):
        when = run.read("grid", columns=["time"])["time"].min().to_pydatetime()
    offset = when.utcoffset() if when is not None and when.utcoffset() is not None else None
    offset_s = offset.total_seconds() if offset is not None else 0.0
    start_ms = (when.timestamp() + offset_s) * 1e3 if when is not None else 0.0
    sign = "+" if offset_s >= 0 else "-"
    hh, mm = divmod(int(abs(offset_s)) // 60, 60)
    ctx = Context(run, start_ms, f"UTC{sign}{hh:02d}:{mm:02d}")
    if run.has("events"):
        ev = run.read("events")
        ctx.events_ms = [
            (ctx.t_ms(float(s)), f"{t} {g}")
            for s, t, g in zip(ev.sim_time_s, ev.type, ev.target, strict=True)
        ]
    return ctx


def _function_builders() -> list[Callable[[Context], Section | None]]:
    """The report sections the built-in functions declare, in their declared order."""
    declared = sorted(d.report for d in declarations() if d.report is not None)
    out = []
    for _, path in declared:
        module, _, name = path.partition(":")
        out.append(getattr(importlib.import_module(module), name))
    return out


def _sections(ctx: Context) -> list[Section]:
    out = [grid.summary(ctx), grid.scenario(ctx), grid.events(ctx)]
    if ctx.run.has("grid"):
        out.append(grid.grid(ctx))
    for build in (*_function_builders(), rt.realtime):
        section = build(ctx)
        if section is not None:
            out.append(section)
    return out + user_functions(ctx)


def build_report_html(run: RunDir) -> str:
    """The report of an opened run directory, as one HTML string."""
    ctx = _context(run)
    name = run.scenario.get("name") or run.path.name
    subtitle = f"run {run.name} · {run.path} · times on the scenario's clock ({ctx.clock})"
    return page(f"gridtwin report: {name}", subtitle, _sections(ctx))


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Build the report of ``run_dir`` and write it (default ``run_dir/report.html``).

    Raises
    ------
    InputError
        ``run_dir`` is no run directory (see :func:`open_run_dir`).
    """
    run = open_run_dir(Path(run_dir))
    target = Path(out) if out is not None else run.path / "report.html"
    text = build_report_html(run)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)  # a reader never sees half a report
    return target
