"""The report's page parts: the context sections share, sections, tables, the HTML page."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gridtwin.report.rundir import RunDir

__all__ = ["Context", "Section", "kv_table", "page"]

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table.kv{border-collapse:collapse;margin:.5em 0} table.kv td,table.kv th{padding:2px 10px;
border-bottom:1px solid #eee;text-align:left} table.kv td.num{text-align:right;
font-variant-numeric:tabular-nums} .note{background:#fff3cd;padding:.5em 1em;border-radius:4px}
.sub{color:#666;font-size:.9em} nav a{margin-right:1em} .plot{margin:1em 0}
"""


@dataclass(slots=True)
class Context:
    """What every section needs: the run and its clock.

    Attributes
    ----------
    run : RunDir
        The run directory.
    start_ms : float
        The scenario's start on its own clock (UTC plus its offset) [ms since the epoch].
    clock : str
        The clock's name for axis labels, e.g. ``UTC+01:00``.
    events_ms : list of (float, str)
        Every recorded event: time [ms, scenario clock] and ``type target``.
    x_range : Bokeh range or None
        The grid plots' time axis, once the grid section is built: timelines share
        it, so they span the run and zoom with the grid plots.
    """

    run: RunDir
    start_ms: float
    clock: str
    events_ms: list[tuple[float, str]] = field(default_factory=list)
    x_range: Any = None

    def t_ms(self, sim_time_s: Any) -> Any:
        """Seconds after the start -> ms on the scenario's clock."""
        return self.start_ms + sim_time_s * 1e3


@dataclass(slots=True)
class Section:
    """One section of the page: its HTML and its plots (name -> Bokeh model), in order."""

    id: str
    title: str
    parts: list[tuple[str, Any]] = field(default_factory=list)  # ("html", str) | ("plot", model)

    def text(self, fragment: str) -> None:
        """Add HTML."""
        self.parts.append(("html", fragment))

    def plot(self, model: Any) -> None:
        """Add a Bokeh figure or layout (it must have a unique ``name``)."""
        self.parts.append(("plot", model))


def kv_table(rows: Sequence[Sequence[str]], header: Sequence[str] | None = None) -> str:
    """A small HTML table; cells that look like numbers are right-aligned."""

    def cell(value: str, tag: str = "td") -> str:
        bare = value.replace(" / ", "").replace(" %", "").lstrip("+-").replace("-", "")
        num = tag == "td" and bare.replace(".", "").isdigit()
        cls = ' class="num"' if num else ""
        return f"<{tag}{cls}>{html.escape(value)}</{tag}>"

    head = "<tr>" + "".join(cell(h, "th") for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(cell(str(v)) for v in r) + "</tr>" for r in rows)
    return f'<table class="kv">{head}{body}</table>'


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    """The whole HTML page: inlined Bokeh, a table of contents, then the sections."""
    from bokeh.embed import components
    from bokeh.resources import Resources

    models = {m.name: m for s in sections for kind, m in s.parts if kind == "plot"}
    script, divs = components(models) if models else ("", {})
    resources = Resources(mode="inline", components=["bokeh"])
    nav = " ".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    body = []
    for s in sections:
        body.append(f'<section id="{s.id}" data-section="{s.id}"><h2>{html.escape(s.title)}</h2>')
        for kind, part in s.parts:
            if kind == "html":
                body.append(part)
            else:
                body.append(f'<div class="plot" data-plot="{part.name}">{divs[part.name]}</div>')
        body.append("</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f"{resources.render_js()}</head><body>"
        f'<h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>'
        f"<nav>{nav}</nav>{''.join(body)}{script}</body></html>\n"
    )
