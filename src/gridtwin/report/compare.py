"""Comparing runs: the summary's figures side by side with their differences, and an
HTML page that overlays the runs' main curves.

The differences are those of the numbers in kpis.json (run minus the first
run), per figure of a row, rounded only for display; the relative difference
is that difference over the first run's figure (``n/a`` when it is 0 or
absent). :func:`markdown_table` gives the same table as Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridtwin.report.rundir import RunDir
from gridtwin.report.summary import all_sections, format_figure

__all__ = [
    "ComparisonRow",
    "comparison_rows",
    "header",
    "markdown_table",
    "relative_percent",
    "write_comparison",
]

CURVES = (
    ("cmp_vm_min", "Min bus voltage", "vm_min_pu", "Vm [pu]"),
    ("cmp_vm_max", "Max bus voltage", "vm_max_pu", "Vm [pu]"),
    ("cmp_loading", "Max line loading", "line_loading_max_percent", "loading [%]"),
    ("cmp_losses", "Losses", "losses_mw", "P [MW]"),
    ("cmp_import", "Import from the external grid", "ext_grid_p_mw", "P [MW]"),
    ("cmp_generation", "Generation", "sgen_p_mw", "P [MW]"),
    ("cmp_not_supplied", "Demand not supplied", "not_supplied_mw", "P [MW]"),
)
"""The overlaid curves: plot name, title, ``grid`` table column, axis label."""


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One figure across runs.

    Attributes
    ----------
    label, unit : str
        As in the summary.
    values : list of str
        Each run's figures as shown (``n/a`` where absent).
    differences : list of str
        Each later run minus the first, per figure (``n/a`` if either is absent).
    relative : list of str
        Each later run's difference over the first run's figure [%], one decimal
        (``n/a`` if either is absent or the first is 0).
    numbers : list of list of float or None
        The raw figures per run, for machine use.
    section_start : bool
        The row opens a new section (``grid``, ``state estimation`` ...).
    section : str
        The title of the row's section.
    """

    label: str
    unit: str
    values: list[str]
    differences: list[str]
    relative: list[str]
    numbers: list[list[float | int | None]]
    section_start: bool
    section: str = ""

    def cells(self) -> list[str]:
        """The row as the table shows it: label, values, (difference, %) per later run, unit."""
        pairs = [c for d, r in zip(self.differences, self.relative, strict=True) for c in (d, r)]
        return [self.label, *self.values, *pairs, self.unit]


def comparison_rows(
    kpis_list: list[dict[str, Any]], sections: list[str] | None = None
) -> list[ComparisonRow]:
    """Rows of every summary figure any of the runs has, first run as the reference.

    ``sections`` keeps only the sections with these titles (``grid``, ``reliability`` ...).
    """
    rows: list[ComparisonRow] = []
    for section in all_sections(kpis_list):
        if sections is not None and section.title not in sections:
            continue
        for i, row in enumerate(section.rows):
            numbers = [row.values(k) for k in kpis_list]
            digits = row.digits
            diffs, rel = [], []
            for other in numbers[1:]:
                pairs = list(zip(numbers[0], other, strict=True))
                parts = [
                    format_figure(None if a is None or b is None else b - a, digits)
                    for a, b in pairs
                ]
                diffs.append(" / ".join(_signed(p) for p in parts))
                rel.append(" / ".join(relative_percent(a, b) for a, b in pairs))
            rows.append(
                ComparisonRow(
                    label=f"{section.title}: {row.label}" if i == 0 else row.label,
                    unit=row.unit,
                    values=[row.text(k) for k in kpis_list],
                    differences=diffs,
                    relative=rel,
                    numbers=numbers,
                    section_start=i == 0 and bool(rows),
                    section=section.title,
                )
            )
    return rows


def _signed(text: str) -> str:
    return text if text == "n/a" or text.startswith("-") else f"+{text}"


def relative_percent(a: float | int | None, b: float | int | None) -> str:
    """``(b - a) / |a|`` in %, signed, one decimal; ``n/a`` if absent or ``a`` is 0."""
    if a is None or b is None or a == 0 or a != a or b != b:  # x != x: NaN
        return "n/a"
    return _signed(f"{(b - a) / abs(a) * 100:.1f}") + " %"


def header(labels: list[str]) -> list[str]:
    """Column titles: figure, each run, (difference, relative difference) per later run, unit."""
    later = [c for x in labels[1:] for c in (f"{x} − {labels[0]}", f"{x} vs {labels[0]}")]
    return ["figure", *labels, *later, "unit"]


def markdown_table(labels: list[str], rows: list[ComparisonRow]) -> str:
    """The comparison as a Markdown table (figures right-aligned), for a README or a note."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    head = header(labels)
    align = ["---", *["---:"] * (len(head) - 2), "---"]
    return "\n".join([line(head), line(align), *(line(r.cells()) for r in rows)]) + "\n"


def write_comparison(runs: list[RunDir], out: Path) -> Path:
    """Write the comparison page: the table and the overlaid curves of ``runs``."""
    from bokeh.plotting import figure

    from gridtwin.report.figures import PALETTE, bin_series
    from gridtwin.report.page import Section, kv_table, page

    labels = [r.path.name for r in runs]
    table = Section("table", "KPIs")
    rows = comparison_rows([run.kpis for run in runs])
    table.text(kv_table([r.cells() for r in rows], header(labels)))
    curves = Section("curves", "Curves")
    curves.text('<p class="sub">Runs are aligned on their start (hours after it).</p>')
    grids = [r.read("grid") if r.has("grid") else None for r in runs]
    for name, title, column, axis in CURVES:
        fig = figure(
            name=name,
            title=title,
            height=260,
            sizing_mode="stretch_width",
            tools="xpan,xwheel_zoom,box_zoom,reset,save,hover",
            active_scroll="xwheel_zoom",
            x_axis_label="hours after the start",
            y_axis_label=axis,
        )
        for i, (label, g) in enumerate(zip(labels, grids, strict=True)):
            if g is None:
                continue
            values = (
                (g.load_demand_p_mw - g.load_p_mw).clip(lower=0).to_numpy()
                if column == "not_supplied_mw"
                else g[column].to_numpy()
            )
            b = bin_series(g.sim_time_s.to_numpy(), 0.0, {"v": values})
            hours = b.t_ms / 3.6e6
            fig.line(hours, b.mean["v"], color=PALETTE[i % 10], legend_label=label, line_width=1.5)
        fig.legend.click_policy = "hide"
        curves.plot(fig)
    out = Path(out)
    out.write_text(
        page("gridtwin comparison", ", ".join(labels), [table, curves]), encoding="utf-8"
    )
    return out
