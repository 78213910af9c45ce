"""A run's directory and its log, without changing global logging state.

The ``gridtwin`` logger gets a file handler for the run, removed at the end.
mosaik logs through loguru: its messages of level WARNING and above go to
the run's ``run.log`` through a handler of our own, removed at the end; loguru's
default stderr handler is muted only while the run lasts (mosaik warns on every
slow step) and put back afterwards.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from gridtwin.redact import RedactingFilter

__all__ = ["RunLog", "new_run_dir"]

log = logging.getLogger("gridtwin")


def new_run_dir(base: Path, scenario: Any) -> Path:
    """A fresh ``<base>/<scenario>-<YYYYmmdd-HHMMSS>[-n]`` directory."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", scenario.name)
    candidate = base / f"{name}-{stamp}"
    n = 1
    while candidate.exists():
        n += 1
        candidate = base / f"{name}-{stamp}-{n}"
    candidate.mkdir(parents=True)
    return candidate


class RunLog:
    """Logging of one run into ``run_dir/run.log``; :meth:`close` undoes everything."""

    def __init__(self, run_dir: Path) -> None:
        self.handler = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
        self.handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        self.handler.addFilter(RedactingFilter())  # no credential in run.log (gridtwin.redact)
        self.level = log.level
        log.addHandler(self.handler)
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
        self._loguru_id: int | None = None
        self._muted_default = False
        try:
            from loguru import logger

            try:
                logger.remove(0)  # loguru's default stderr handler, if still there
                self._muted_default = True
            except ValueError:
                pass
            self._loguru_id = logger.add(
                run_dir / "run.log", level="WARNING", format="{time} {level} mosaik: {message}"
            )
        except ImportError:  # pragma: no cover - mosaik always brings loguru
            pass

    def close(self) -> None:
        """Remove the run's handlers and put back what was there."""
        log.removeHandler(self.handler)
        self.handler.close()
        log.setLevel(self.level)
        if self._loguru_id is not None:
            import sys

            from loguru import logger

            logger.remove(self._loguru_id)
            if self._muted_default:
                logger.add(sys.stderr)  # loguru's own default (new id)
                self._muted_default = False
            self._loguru_id = None
