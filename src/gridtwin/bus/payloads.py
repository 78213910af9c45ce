"""The two payload formats of the process bus: VILLASnode JSON and SOGNO JSON (pure).

VILLASnode JSON (``villas``): a list of samples, each with its time stamp as
``[seconds, nanoseconds]`` since the epoch, a sequence number and one value
per signal, in the order of the topic's signal list (published retained on
``<topic>/signals``); ``null`` marks a value that is not available::

    [{"ts": {"origin": [1466503200, 0]}, "sequence": 7, "data": [1.021, null, 0.35]}]

SOGNO JSON (``sogno``): one message per device, each reading named by its
component, measurand and phase; the time stamp is ISO 8601 with a UTC
offset (a number of seconds since the epoch is accepted on input)::

    {"device": "scada", "timestamp": "2016-06-21T10:00:00+00:00",
     "readings": [{"component": "MV1.101 Bus 5", "measurand": "voltmagnitude",
                   "phase": "A", "data": 1.021}]}

gridtwin's grid model is balanced: a reading is the positive-sequence value
(per unit, MW, MVAr), reported as phase ``A``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "PayloadError",
    "Reading",
    "SognoMessage",
    "VillasSample",
    "signal_list",
    "sogno_decode",
    "sogno_encode",
    "villas_decode",
    "villas_encode",
]

_SEPARATORS = (",", ":")


class PayloadError(ValueError):
    """A payload that does not parse as the topic's format (rejected as ``unparsable``)."""


@dataclass(frozen=True, slots=True)
class VillasSample:
    """One VILLASnode sample: time stamp [s since the epoch], sequence number, values."""

    ts_s: float
    sequence: int
    data: list[float | None]


@dataclass(frozen=True, slots=True)
class Reading:
    """One SOGNO reading."""

    component: str
    measurand: str
    phase: str
    data: float | None


@dataclass(frozen=True, slots=True)
class SognoMessage:
    """One SOGNO message: the device, its time stamp [s since the epoch] and readings."""

    device: str
    ts_s: float
    readings: list[Reading]


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def villas_encode(ts_s: float, sequence: int, values: Sequence[float]) -> bytes:
    """One VILLASnode sample as JSON; NaN (not available) becomes ``null``."""
    sec = math.floor(ts_s)
    nsec = round((ts_s - sec) * 1e9)
    sample = {
        "ts": {"origin": [int(sec), int(min(nsec, 999_999_999))]},
        "sequence": int(sequence),
        "data": [_finite_or_none(float(v)) for v in values],
    }
    return json.dumps([sample], separators=_SEPARATORS, allow_nan=False).encode()


def signal_list(names: Sequence[str], units: Sequence[str], **extra: Sequence[Any]) -> bytes:
    """A VILLASnode signal list: ``[{"name", "unit", "type": "float", ...extra}]``."""
    signals = []
    for i, (name, unit) in enumerate(zip(names, units, strict=True)):
        signal: dict[str, Any] = {"name": name, "unit": unit, "type": "float"}
        signal.update({key: values[i] for key, values in extra.items()})
        signals.append(signal)
    return json.dumps(signals, separators=_SEPARATORS, allow_nan=False).encode()


def _iso(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, tz=UTC).isoformat()


def sogno_encode(device: str, ts_s: float, readings: Sequence[Reading]) -> bytes:
    """One SOGNO message as JSON (readings without a value are left out)."""
    message = {
        "device": device,
        "timestamp": _iso(ts_s),
        "readings": [
            {"component": r.component, "measurand": r.measurand, "phase": r.phase, "data": r.data}
            for r in readings
            if r.data is not None and math.isfinite(r.data)
        ],
    }
    return json.dumps(message, separators=_SEPARATORS, allow_nan=False).encode()


def _load(payload: bytes) -> Any:
    try:
        return json.loads(payload)  # NaN and Infinity parse; the validation rejects them
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"not JSON: {exc}") from None


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    raise PayloadError(f"{where}: got {value!r}; expected a number, true/false or null")


def _villas_sample(item: Any, k: int) -> VillasSample:
    if not isinstance(item, dict):
        raise PayloadError(f"sample {k}: expected an object with ts, sequence and data")
    origin = item.get("ts", {}).get("origin") if isinstance(item.get("ts"), dict) else None
    if (
        not isinstance(origin, list)
        or len(origin) != 2
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in origin)
        or not 0 <= origin[1] < 1_000_000_000
    ):
        raise PayloadError(f"sample {k}: ts.origin: expected [seconds, nanoseconds] as integers")
    sequence = item.get("sequence", 0)
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise PayloadError(f"sample {k}: sequence: expected an integer")
    data = item.get("data")
    if not isinstance(data, list):
        raise PayloadError(f"sample {k}: data: expected a list of values")
    values = [_number(v, f"sample {k}: data[{i}]") for i, v in enumerate(data)]
    return VillasSample(origin[0] + origin[1] * 1e-9, sequence, values)


def villas_decode(payload: bytes) -> list[VillasSample]:
    """The samples of a VILLASnode JSON payload (a list of samples or one sample)."""
    doc = _load(payload)
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise PayloadError("expected at least one sample")
    return [_villas_sample(item, k) for k, item in enumerate(items)]


def _timestamp(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            stamp = None
        if stamp is not None and stamp.tzinfo is not None:
            return stamp.timestamp()
    raise PayloadError(
        f"timestamp: got {value!r}; expected ISO 8601 with a UTC offset or seconds since the epoch"
    )


def _reading(item: Any, k: int) -> Reading:
    if not isinstance(item, dict):
        raise PayloadError(f"readings[{k}]: expected an object")
    texts = []
    for key in ("component", "measurand"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise PayloadError(f"readings[{k}].{key}: expected a string")
        texts.append(value)
    phase = item.get("phase", "A")
    if not isinstance(phase, str):
        raise PayloadError(f"readings[{k}].phase: expected a string")
    if "data" not in item:
        raise PayloadError(f"readings[{k}].data: missing")
    return Reading(texts[0], texts[1], phase, _number(item["data"], f"readings[{k}].data"))


def sogno_decode(payload: bytes) -> SognoMessage:
    """A SOGNO JSON message."""
    doc = _load(payload)
    if not isinstance(doc, dict):
        raise PayloadError("expected an object with device, timestamp and readings")
    device = doc.get("device", "")
    if not isinstance(device, str):
        raise PayloadError("device: expected a string")
    if "timestamp" not in doc:
        raise PayloadError("timestamp: missing")
    readings = doc.get("readings")
    if not isinstance(readings, list):
        raise PayloadError("readings: expected a list")
    ts_s = _timestamp(doc["timestamp"])
    return SognoMessage(device, ts_s, [_reading(r, k) for k, r in enumerate(readings)])
