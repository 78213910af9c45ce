"""Load, generation and storage profiles aligned to a scenario's steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gridtwin.errors import InputError
from gridtwin.profiles.align import align_profile
from gridtwin.profiles.csv import read_profile_csv
from gridtwin.profiles.simbench import SIMBENCH_FIRST, SIMBENCH_RESOLUTION_S, simbench_profiles

if TYPE_CHECKING:
    import pandapower as pp

if TYPE_CHECKING:
    from gridtwin.scenario.model import Scenario

__all__ = ["QUANTITIES", "Profiles", "build_profiles"]

QUANTITIES = (
    ("load", "p_mw"),
    ("load", "q_mvar"),
    ("sgen", "p_mw"),
    ("sgen", "q_mvar"),
    ("storage", "p_mw"),
)


@dataclass(slots=True)
class Profiles:
    """Per-step element powers for a whole run.

    ``series[(element, quantity)]`` has shape ``(n_steps, n_elements)``, or
    ``(1, n_elements)`` for a quantity that stays at its rated value.
    """

    series: dict[tuple[str, str], np.ndarray]
    n_steps: int

    def at(self, element: str, quantity: str, step: int) -> np.ndarray:
        """Values of one quantity at step ``step`` [MW or MVAr]."""
        arr = self.series[(element, quantity)]
        return arr[step if arr.shape[0] > 1 else 0]


def _nominal(net: pp.pandapowerNet, element: str, quantity: str) -> np.ndarray:
    frame = net[element]
    if quantity not in frame or len(frame) == 0:
        return np.zeros(len(frame))
    scaling = frame["scaling"].fillna(1.0).to_numpy(float) if "scaling" in frame else 1.0
    return frame[quantity].fillna(0.0).to_numpy(float) * scaling


def build_profiles(scenario: Scenario, net: pp.pandapowerNet) -> Profiles:
    """Build the per-step profiles a scenario asks for.

    Elements without a profile keep their rated (nominal) power; the
    scenario's ``load_scale`` and ``sgen_scale`` apply on top.

    Raises
    ------
    InputError
        If a profile does not cover the run, or a CSV file is bad.
    """
    spec = scenario.profiles
    time = scenario.time
    n_steps = time.n_steps
    start_s = int(time.start.timestamp())
    method = str(spec.interpolation)
    series = {(e, q): _nominal(net, e, q)[None, :] for e, q in QUANTITIES}

    def aligned(
        values: np.ndarray, first_s: int, resolution_s: int, error: InputError
    ) -> np.ndarray:
        try:
            return align_profile(
                values,
                first_s=first_s,
                resolution_s=resolution_s,
                start_s=start_s,
                step_s=time.step,
                n_steps=n_steps,
                method=method,
            )
        except ValueError:
            raise error from None

    if spec.source == "simbench":
        _simbench_series(series, net, aligned, scenario.source_file, scenario.grid.simbench)
    elif spec.source == "csv":
        offset = time.start.utcoffset()
        if offset is None:  # the scenario's checks require an offset
            raise InputError(scenario.source_file, "time.start", "expected a UTC offset")
        offset_s = int(offset.total_seconds())
        for fspec in spec.files:
            _csv_series(series, fspec, net, aligned, offset_s, n_steps)
    for (element, quantity), arr in series.items():
        factor = {"load": spec.load_scale, "sgen": spec.sgen_scale}.get(element, 1.0)
        if factor != 1.0:
            series[(element, quantity)] = arr * factor
    return Profiles(series=series, n_steps=n_steps)


_Series = dict[tuple[str, str], np.ndarray]
_Aligner = Callable[[np.ndarray, int, int, InputError], np.ndarray]


def _simbench_series(
    series: _Series, net: pp.pandapowerNet, aligned: _Aligner, source_file: str, code: str | None
) -> None:
    """Replace the nominal series by SimBench's own profiles where the net has them."""
    first_s = int(SIMBENCH_FIRST.timestamp())
    for key, values in simbench_profiles(net, code).items():
        if key not in series:
            continue
        series[key] = aligned(
            values,
            first_s,
            SIMBENCH_RESOLUTION_S,
            InputError(
                source_file,
                "time.start",
                "the run is outside the SimBench profiles; expected a period within "
                "2016-01-01T00:00:00+01:00 .. 2017-01-01T00:00:00+01:00",
            ),
        )


def _csv_series(
    series: _Series,
    fspec: Any,
    net: pp.pandapowerNet,
    aligned: _Aligner,
    offset_s: int,
    n_steps: int,
) -> None:
    """Write one profile CSV file's columns into the series of its element and quantity."""
    prof = read_profile_csv(
        fspec.path,
        element=fspec.element,
        quantity=fspec.quantity,
        net=net,
        utc_offset_s=offset_s,
    )
    values = aligned(
        prof.values,
        prof.first_s,
        prof.resolution_s,
        InputError(
            fspec.path,
            "time",
            "the file does not cover the run; expected rows from time.start to "
            "time.start + time.duration",
        ),
    )
    targets = ["p_mw", "q_mvar"] if fspec.quantity == "scaling" else [fspec.quantity]
    for quantity in targets:
        key = (fspec.element, quantity)
        if key not in series:
            continue
        full = np.repeat(series[key], n_steps, axis=0) if series[key].shape[0] == 1 else series[key]
        if fspec.quantity == "scaling":
            full[:, prof.positions] = (
                values * _nominal(net, fspec.element, quantity)[prof.positions]
            )
        else:
            full[:, prof.positions] = values
        series[key] = full
