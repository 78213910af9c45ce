"""The command line (``gridtwin = "gridtwin.cli:app"``): thin, parse, call, print.

Every command is one module in :mod:`gridtwin.cli.commands`; importing this
package registers them all on :data:`app`. Adding a command is adding one
file there with a function ``register(app)`` that adds the command
(``app.command("name")(function)``) and an ``ORDER`` (its place in ``--help``). A
command module imports only typer, the standard library and
:mod:`gridtwin.cli._app` at its top; everything else inside the function, so
``gridtwin --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil

from gridtwin.cli import commands
from gridtwin.cli._app import app

__all__ = ["app"]


def _register() -> None:
    modules = [
        importlib.import_module(f"{commands.__name__}.{info.name}")
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    ]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__)):
        module.register(app)


_register()


def __getattr__(name: str):  # the run summary table, for callers of the old module
    if name == "_summary_table":
        from gridtwin.cli._summary import summary_table

        return summary_table
    raise AttributeError(name)
