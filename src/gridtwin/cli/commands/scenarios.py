"""``gridtwin scenarios``: the shipped scenarios, one line each."""

from __future__ import annotations

import typer

from gridtwin.cli._app import line, shipped_scenarios_dir

ORDER = 30


def scenarios() -> None:
    """List the scenarios that ship with gridtwin, one line each: name, then description."""
    import yaml

    paths = sorted(shipped_scenarios_dir().glob("*.yaml"), key=lambda p: p.stem)
    width = max((len(p.stem) for p in paths), default=0)
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            data = {}
        description = " ".join(str(data.get("description", "")).split())
        line(f"{path.stem:<{width}}  {description}")


def register(app: typer.Typer) -> None:
    """Add ``scenarios``."""
    app.command()(scenarios)
