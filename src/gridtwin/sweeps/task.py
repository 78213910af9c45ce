"""One variant on a worker: run it into its run directory, return its small row.

Runs on a Dask worker (or in the caller's process): the run's tables stay on
disk, only the row (a few dozen numbers) goes back to the client. A finished
variant is one whose run directory has ``kpis.json`` with ``run.completed``
and a ``sweep_variant.json`` with the same scenario digest; its row is read
back from there, so a resumed sweep gives the same rows as a fresh one.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from gridtwin.errors import InputError
from gridtwin.redact import redact_text
from gridtwin.sweeps.plan import Job

__all__ = ["VARIANT_FILE", "finished_row", "flatten_kpis", "run_job", "status_of"]

VARIANT_FILE = "sweep_variant.json"
WALL_CLOCK_SECTIONS = ("run", "realtime", "timing")
"""Sections of wall-clock figures: never collected (they differ from run to run)."""


def _wall_clock(key: str) -> bool:
    """A wall-clock figure (``run.wall_s``, ``voltage.central_ms_p95``, ``se.ms_per_...``)."""
    leaf = key.rsplit(".", 1)[-1]
    return "wall" in leaf or "_ms" in leaf or leaf.startswith("ms_")


def flatten_kpis(kpis: dict[str, Any], wanted: list[str] | None) -> dict[str, float]:
    """``section.key`` -> number for every scalar KPI (units are in the keys).

    Lists and strings are left out; booleans become 0/1; a missing value is NaN.
    ``wanted`` None: every KPI but the wall-clock ones.
    """
    out: dict[str, float] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        elif node is None:
            out[prefix] = float("nan")
        elif isinstance(node, bool | int | float):
            out[prefix] = float(node)

    for section, values in kpis.items():
        if wanted is None and section in WALL_CLOCK_SECTIONS:
            continue
        walk(section, values)
    if wanted is None:
        return {k: v for k, v in out.items() if not _wall_clock(k)}
    return {k: out.get(k, float("nan")) for k in wanted}


def status_of(kpis: dict[str, Any]) -> tuple[str, str]:
    """(``ok`` | ``failed``, one-line error) from a run's kpis.json."""
    run = kpis.get("run", {})
    if not run.get("completed"):
        return "failed", f"stopped after {run.get('steps', 0)} steps; expected the whole period"
    bad = kpis.get("grid", {}).get("pf_nonconverged_steps") or 0
    if bad:
        return "failed", f"power flow did not converge in {int(bad)} steps"
    return "ok", ""


def _row(job: Job, kpis: dict[str, Any], wanted: list[str] | None, wall_s: float) -> dict:
    status, error = status_of(kpis)
    return {
        "variant": job.id,
        "status": status,
        "error": error,
        "wall_s": wall_s,
        "kpis": flatten_kpis(kpis, wanted),
    }


def finished_row(job: Job, wanted: list[str] | None) -> dict[str, Any] | None:
    """The row of a variant already run to its end with this scenario, else None."""
    run_dir = Path(job.run_dir)
    try:
        kpis = json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))
        meta = json.loads((run_dir / VARIANT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not kpis.get("run", {}).get("completed") or meta.get("digest") != job.digest:
        return None
    return _row(job, kpis, wanted, float(meta.get("wall_s", float("nan"))))


def _one_line(exc: BaseException) -> str:
    """The error column's text: one line, no credential (redacted before it is cut)."""
    if isinstance(exc, InputError):
        return str(exc)
    text = redact_text(" ".join(str(exc).split())) or "no message"
    return f"{type(exc).__name__}: {text}"[:500]


def _mute_stderr_logs() -> None:
    """No mosaik (loguru) lines on the worker's stderr: the run's warnings go to its run.log."""
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - mosaik always brings loguru
        return
    logger.remove()


def run_job(job: Job, wanted: list[str] | None) -> dict[str, Any]:
    """Run one variant (on a worker) and return its row; never raises for a failed run."""
    from gridtwin.scenario import scenario_from_dict
    from gridtwin.world import run_scenario

    _mute_stderr_logs()
    t0 = time.perf_counter()
    run_dir = Path(job.run_dir)
    if run_dir.exists():  # a run cut short earlier: start it again from nothing
        shutil.rmtree(run_dir)
    try:
        scenario = scenario_from_dict(job.data, source=job.source, base_dir=job.base_dir)
        run_scenario(scenario, out_dir=run_dir)
        kpis = json.loads((run_dir / "kpis.json").read_text(encoding="utf-8"))
        if job.report:
            from gridtwin.report.html import write_report

            write_report(run_dir)
    except Exception as exc:  # recorded in the table; the sweep goes on
        wall_s = time.perf_counter() - t0
        return {
            "variant": job.id,
            "status": "failed",
            "error": _one_line(exc),
            "wall_s": wall_s,
            "kpis": flatten_kpis({}, wanted) if wanted else {},
        }
    wall_s = time.perf_counter() - t0
    meta = {"variant": job.id, "digest": job.digest, "wall_s": wall_s}
    (run_dir / VARIANT_FILE).write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return _row(job, kpis, wanted, wall_s)
