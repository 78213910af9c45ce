"""The run summary as a rich table (the end of ``run``, and ``show``)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

__all__ = ["summary_table"]


def summary_table(kpis: dict[str, Any], title: str) -> Table:
    """One table: a bold line per section, then its figures with their units."""
    from gridtwin.report.summary import summary_sections

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for i, section in enumerate(summary_sections(kpis)):
        if i:
            table.add_section()
        table.add_row(f"[bold]{section.title}[/bold]", "", "")
        for row in section.rows:
            table.add_row(row.label, row.text(kpis), row.unit)
    return table
