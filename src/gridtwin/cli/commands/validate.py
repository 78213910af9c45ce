"""``gridtwin validate SCENARIO``: every check that needs no run."""

from __future__ import annotations

from typing import Annotated

import typer

from gridtwin.cli._app import FORCE_HELP, SCENARIO_HELP, fail, line, load_scenario_arg
from gridtwin.errors import InputError

ORDER = 20


def validate(
    scenario: Annotated[str, typer.Argument(help=SCENARIO_HELP, show_default=False)],
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Check SCENARIO without running it: schema, network, profiles and events.

    Exits 0 and prints a one-line summary if it is valid; otherwise prints one
    line naming the file, the field and what was expected, and exits 2.
    """
    from gridtwin.world import prepare

    try:
        sc = load_scenario_arg(scenario, force=force)
        prepared = prepare(sc, check_only=True)
    except InputError as exc:
        raise fail(exc) from None
    net = prepared.net
    line(
        f"ok: {sc.name}: {sc.n_steps} steps of {sc.time.step} s, {len(net.bus)} buses, "
        f"{len(net.line)} lines, {len(net.load)} loads, {len(net.sgen)} sgens, "
        f"{len(prepared.schedule)} events"
    )


def register(app: typer.Typer) -> None:
    """Add ``validate``."""
    app.command()(validate)
