"""Stopping a run: SIGTERM is treated like SIGINT (Ctrl-C).

``timeout``, systemd and container runtimes stop a process with SIGTERM,
whose default action ends Python at once: no ``kpis.json``, tables not
flushed. With :func:`install_stop_handlers` both signals stop the run in
order: while the run is stepping (``deferred``) the signal is noted and
:meth:`StopState.check`, called after each recorded step, raises
:class:`KeyboardInterrupt` there, so the tables and the KPIs hold the same
whole steps; the co-simulation ends, every table is flushed and
``kpis.json`` says ``completed: false``. Outside the stepping (loading) the
signal raises at once. A second signal raises at once (the user insists);
any later one is ignored, so that finishing is not cut short.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

__all__ = [
    "STOP_SIGNALS",
    "StopState",
    "install_stop_handlers",
    "interrupted_message",
    "stop_on_signals",
]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a run in order."""


@dataclass(slots=True)
class StopState:
    """Which stop signal arrived (``None``: none)."""

    received: signal.Signals | None = None
    previous: dict[signal.Signals, Any] = field(default_factory=dict)
    deferred: bool = False  # note the signal; :meth:`check` raises at the next step boundary
    raised: bool = False

    def check(self) -> None:
        """Raise :class:`KeyboardInterrupt` if a stop signal arrived (once)."""
        if self.received is not None and not self.raised:
            self.raised = True
            raise KeyboardInterrupt(self.received.name)

    def restore(self) -> None:
        """Put back the handlers that were there before."""
        for sig, old in self.previous.items():
            signal.signal(sig, old)
        self.previous = {}

    @property
    def exit_code(self) -> int:
        """The shell convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + int(self.received) if self.received is not None else 0


def install_stop_handlers() -> StopState:
    """From now on SIGINT and SIGTERM raise :class:`KeyboardInterrupt` once.

    Call :meth:`StopState.restore` when the run is over to put the previous
    handlers back. Outside the main thread (where Python cannot handle
    signals) it installs nothing.
    """
    state = StopState()
    if threading.current_thread() is not threading.main_thread():
        return state

    def handler(signum: int, frame: FrameType | None) -> None:
        if state.raised:
            return  # already stopping: let the run finish writing
        first = state.received is None
        if first:
            state.received = signal.Signals(signum)
        if first and state.deferred:
            return  # stop at the next step boundary
        state.check()

    state.previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    return state


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopState]:
    """:func:`install_stop_handlers` for the duration of a ``with`` block."""
    state = install_stop_handlers()
    try:
        yield state
    finally:
        state.restore()


def interrupted_message(state: StopState, run_dir: object, n_steps: int) -> str:
    """The one line printed when a run was stopped by a signal (steps read from kpis.json)."""
    import json
    from pathlib import Path

    name = state.received.name if state.received is not None else "SIGINT"
    if run_dir is None:
        return f"interrupted ({name}) before the run started; no run directory was written"
    try:
        kpis = json.loads((Path(str(run_dir)) / "kpis.json").read_text(encoding="utf-8"))
        done = f"{int(kpis['run']['steps']):,} of {n_steps:,} steps"
    except (OSError, ValueError, KeyError, TypeError):
        done = "no kpis.json"
    return f"interrupted ({name}): {done}; the incomplete run is in {run_dir}"
