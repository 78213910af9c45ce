"""Reading a run directory back: kpis.json, scenario.yaml and the Parquet tables.

Everything the report, ``show`` and ``compare`` know about a run comes from
here, so they work on any run directory, also one whose run was stopped
(``run.completed`` false, or no kpis.json at all but tables on disk).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridtwin.errors import InputError

__all__ = ["RunDir", "open_run_dir"]


@dataclass(slots=True)
class RunDir:
    """A run directory as found on disk.

    Attributes
    ----------
    path : Path
        The directory.
    kpis : dict
        kpis.json, or ``{}`` when it is missing.
    scenario : dict
        scenario.yaml as plain data, or ``{}``.
    tables : list of str
        Names of the Parquet tables present (``bus`` for ``bus.parquet/``).
    """

    path: Path
    kpis: dict[str, Any]
    scenario: dict[str, Any]
    tables: list[str]
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """The run's name: its run id if kpis.json has one, else the folder's name."""
        return str(self.kpis.get("run", {}).get("run_id") or self.path.name)

    @property
    def incomplete(self) -> str | None:
        """Why the run is incomplete (one phrase), or None if it completed."""
        if not self.kpis:
            return "no kpis.json: the run did not finish; shown from its tables"
        if self.kpis.get("run", {}).get("completed") is False:
            return "run.completed is false: the run stopped before its end"
        return None

    def has(self, table: str) -> bool:
        """Whether ``table`` is present and holds at least one row."""
        return table in self.tables and self.rows(table) > 0

    def rows(self, table: str) -> int:
        """Rows of ``table`` from the parts' metadata (nothing is read)."""
        import pyarrow.parquet as pq

        parts = sorted((self.path / f"{table}.parquet").glob("part-*.parquet"))
        return sum(pq.ParquetFile(p).metadata.num_rows for p in parts)

    def matrix(self, table: str, column: str) -> tuple[Any, list[str], Any]:
        """A per-step table's column as steps x elements.

        Returns
        -------
        sim_time_s : ndarray, shape (steps,)
        elements : list of str
        values : ndarray, shape (steps, elements)
            Rows in step order; the store writes each step's elements in one order.
        """
        import numpy as np
        import pyarrow.parquet as pq

        key = f"matrix:{table}:{column}"
        if key not in self._cache:
            data = pq.read_table(
                self.path / f"{table}.parquet", columns=["sim_time_s", "element", column]
            )
            element = data.column("element")
            names = [str(x) for x in element.chunk(0).dictionary] if element.num_chunks else []
            n = max(len(names), 1)
            values = data.column(column).to_numpy().reshape(-1, n)
            steps = np.asarray(data.column("sim_time_s").to_numpy()[::n])
            self._cache[key] = (steps, names, values)
        return self._cache[key]

    def read(self, table: str, columns: list[str] | None = None) -> Any:
        """A table as a pandas DataFrame (all its parts); cached per column set."""
        import pandas as pd

        key = f"{table}:{','.join(columns or [])}"
        if key not in self._cache:
            self._cache[key] = pd.read_parquet(self.path / f"{table}.parquet", columns=columns)
        return self._cache[key]


def open_run_dir(path: Path) -> RunDir:
    """Open a run directory; one-line :class:`InputError` if it is none.

    Raises
    ------
    InputError
        No such folder, no kpis.json and no table, or a kpis.json or
        scenario.yaml that cannot be read.
    """
    path = Path(path)
    if not path.is_dir():
        raise InputError(str(path), "", "no such directory; expected a gridtwin run directory")
    tables = sorted(
        p.name.removesuffix(".parquet")
        for p in path.glob("*.parquet")
        if p.is_dir() and any(p.glob("part-*.parquet"))
    )
    kpis_path = path / "kpis.json"
    kpis: dict[str, Any] = {}
    if kpis_path.is_file():
        try:
            kpis = json.loads(kpis_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(str(kpis_path), "", f"not valid JSON ({exc})") from None
        if not isinstance(kpis, dict):
            raise InputError(str(kpis_path), "", "expected a JSON object of sections")
    elif not tables:
        raise InputError(
            str(path), "", "no kpis.json and no tables here; expected a gridtwin run directory"
        )
    return RunDir(path, kpis, _read_scenario(path / "scenario.yaml"), tables)


def _read_scenario(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(str(path), "", f"not valid YAML ({exc})".splitlines()[0]) from None
    return data if isinstance(data, dict) else {}
