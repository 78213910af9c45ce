"""The sweep file: its schema and its reading (one-line errors naming the sweep file).

A sweep file names a base scenario and the ways its variants differ::

    base: ../mv-fault-flisr.yaml        # relative to the sweep file
    set: {time.duration: 1d}            # applied to every variant
    axes: {flisr.remote: [all, none]}   # combined as a grid (every combination)
    zip: {a.b: [1, 2], c.d: [3, 4]}     # combined pairwise (equal lengths)
    seed: {count: 100}                  # or a list of seeds
    generate:
      faults: {lines: all, at: 8h, repair_after: 6h}
      weeks: {every: 4}
      random: {seed: 7, count: 20, draws: {profiles.sgen_scale: {uniform: [1.0, 2.0]}}}
    kpis: [reliability.ens_mwh]         # default: all
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gridtwin.errors import InputError

__all__ = [
    "Draw",
    "FaultsGen",
    "Generators",
    "RandomGen",
    "RateSpec",
    "SeedAxis",
    "SweepSpec",
    "WeeksGen",
    "WorstSpec",
    "load_sweep",
]

AxisValues = list[Any] | dict[str, Any]
"""A list of values, or labelled values (label -> value; the table shows the label)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SeedAxis(_Strict):
    """``seed: {count: N}``: the seeds ``start`` .. ``start + count - 1``."""

    count: int = Field(ge=1, le=1_000_000)
    start: int = Field(default=0, ge=0)


class FaultsGen(_Strict):
    """A fault on every chosen line, repaired ``repair_after`` later (one variant per line).

    ``lines``: ``all`` or a list of line names; ``every``: keep every n-th of them;
    ``feeder``: only the lines of one feeder, named by any line in it or by its
    number (1, 2, ... in the order of the head lines' names).
    """

    lines: Literal["all"] | list[str] = "all"
    every: int = Field(default=1, ge=1)
    feeder: str | int | None = None
    at: str | int = "8h"
    repair_after: str | int | None = "6h"
    permanent: int = Field(default=1, ge=0, le=1)
    keep_events: bool = False


class WeeksGen(_Strict):
    """Every (n-th) week of a year as the period: ``time.start`` on day ``7 (k - 1)``."""

    year: int | None = Field(default=None, ge=1900, le=2200)
    every: int = Field(default=1, ge=1)
    weeks: list[int] | None = None
    duration: str | int | None = None

    @model_validator(mode="after")
    def _weeks_in_year(self) -> WeeksGen:
        for week in self.weeks or []:
            if not 1 <= week <= 52:
                raise ValueError(f"weeks: got {week}; expected week numbers 1 to 52")
        return self


class Draw(_Strict):
    """One random draw: exactly one of uniform [low, high], normal [mean, sd], integers, choice."""

    uniform: tuple[float, float] | None = None
    normal: tuple[float, float] | None = None
    integers: tuple[int, int] | None = None
    choice: list[Any] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Draw:
        given = [k for k in ("uniform", "normal", "integers", "choice") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("expected exactly one of uniform, normal, integers, choice")
        return self


class RandomGen(_Strict):
    """``count`` random variants, drawn with their own ``seed`` (independent of the run seed)."""

    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    count: int = Field(ge=1, le=1_000_000)
    draws: dict[str, Draw] = Field(min_length=1)


class Generators(_Strict):
    """Variants generated from the grid or the calendar."""

    faults: FaultsGen | None = None
    weeks: WeeksGen | None = None
    random: RandomGen | None = None


class WorstSpec(_Strict):
    """Which runs the page names as the worst: by ``kpi`` (default: the first collected)."""

    kpi: str | None = None
    count: int = Field(default=10, ge=1)
    highest: bool = True


class RateSpec(_Strict):
    """A rate pooled over the runs: sum of ``num`` over sum of ``den`` (with a 95 % interval)."""

    num: str
    den: str


class SweepSpec(_Strict):
    """A sweep file (see the module docstring)."""

    name: str | None = None
    description: str = ""
    base: str
    set: dict[str, Any] = Field(default_factory=dict)
    axes: dict[str, AxisValues] = Field(default_factory=dict)
    zip: dict[str, AxisValues] = Field(default_factory=dict)
    seed: SeedAxis | list[int] | None = None
    generate: Generators = Field(default_factory=Generators)
    kpis: Literal["all"] | list[str] = "all"
    worst: WorstSpec = Field(default_factory=WorstSpec)
    rates: dict[str, RateSpec] = Field(default_factory=dict)
    report: Literal["worst", "all", "none"] = "worst"

    @model_validator(mode="after")
    def _shapes(self) -> SweepSpec:
        for section in ("axes", "zip"):
            for path, values in getattr(self, section).items():
                if not values:
                    raise ValueError(f"{section}.{path}: empty; expected at least one value")
        lengths = {len(v) for v in self.zip.values()}
        if len(lengths) > 1:
            raise ValueError(f"zip: lists of lengths {sorted(lengths)}; expected equal lengths")
        if isinstance(self.seed, list) and not self.seed:
            raise ValueError("seed: empty list; expected seeds or {count: N}")
        return self

    @property
    def seeds(self) -> list[int] | None:
        """The seed axis as a list (None: the base scenario's seed)."""
        if self.seed is None:
            return None
        if isinstance(self.seed, SeedAxis):
            return list(range(self.seed.start, self.seed.start + self.seed.count))
        return list(self.seed)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file.

    Raises
    ------
    InputError
        One line naming the sweep file, the field and what was expected.
    """
    from gridtwin.scenario.loading import StrictLoader
    from gridtwin.scenario.messages import to_input_error

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "", "no such file; expected a sweep YAML file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise InputError(
            str(path), where, f"not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    except UnicodeDecodeError:
        raise InputError(str(path), "", "not a text file; expected UTF-8 YAML") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "", f"got {type(data).__name__}; expected a YAML mapping")
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise to_input_error(exc, str(path), SweepSpec) from None
