"""Profile alignment and CSV profile files."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest

from gridtwin.errors import InputError
from gridtwin.profiles.align import align_profile
from gridtwin.profiles.csv import read_profile_csv

HOUR = 3600


def test_hold_linear_mean_on_hourly_profile():
    values = np.array([[0.0], [1.0], [3.0]])  # hourly points at 0h, 1h, 2h
    kw = dict(first_s=0, resolution_s=HOUR, start_s=0, step_s=900, n_steps=8)
    hold = align_profile(values, method="hold", **kw)[:, 0]
    assert hold.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    linear = align_profile(values, method="linear", **kw)[:, 0]
    np.testing.assert_allclose(linear, [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5])
    # mean over 2-hour steps of the held profile: (0 + 1) / 2, then (3) alone is outside
    mean = align_profile(
        values, method="mean", first_s=0, resolution_s=HOUR, start_s=0, step_s=2 * HOUR, n_steps=1
    )[:, 0]
    np.testing.assert_allclose(mean, [0.5])


def test_not_covered_raises():
    with pytest.raises(ValueError, match="does not cover"):
        align_profile(
            np.zeros((4, 1)), first_s=0, resolution_s=900, start_s=0, step_s=900, n_steps=5
        )


NET = pn.case33bw()


def _csv(tmp_path, text: str):
    path = tmp_path / "loads.csv"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "time,1 [MW],2 [MW]\n2016-06-21T00:00:00+01:00,0.1,0.2\n2016-06-21T00:15:00+01:00,0.3,0.4\n"


def test_read_good_csv(tmp_path):
    prof = read_profile_csv(
        _csv(tmp_path, GOOD), element="load", quantity="p_mw", net=NET, utc_offset_s=3600
    )
    assert prof.resolution_s == 900
    assert prof.positions.tolist() == [1, 2]
    np.testing.assert_allclose(prof.values, [[0.1, 0.2], [0.3, 0.4]])


@pytest.mark.parametrize(
    ("text", "quantity", "fragment"),
    [
        (GOOD.replace("2 [MW]", "77 [MW]"), "p_mw", "77 [MW]: no load named '77' in the network"),
        (
            GOOD.replace("2 [MW]", "2 [kW]"),
            "p_mw",
            "2 [kW]: unit mismatch: got [kW], expected [MW]",
        ),
        (GOOD.replace("2 [MW]", "2"), "p_mw", "2: no unit in the header; expected '2 [MW]'"),
        (GOOD, "q_mvar", "unit mismatch: got [MW], expected [MVAr] for q_mvar"),
        (
            GOOD.replace("+01:00", "+02:00"),
            "p_mw",
            "time: time-zone mismatch: got UTC offset +02:00, expected +01:00 as in time.start",
        ),
        (
            GOOD.replace("+01:00", ""),
            "p_mw",
            "time, row 2: got '2016-06-21T00:00:00'; expected ISO 8601 with a UTC offset",
        ),
        (
            GOOD + "2016-06-21T01:00:00+01:00,0.5,0.6\n",
            "p_mw",
            "time, row 4: gap or disorder in time",
        ),
        (GOOD.replace("0.4", "n/a"), "p_mw", "2 [MW], row 3: got 'n/a'; expected a number"),
        (GOOD.replace("time,", "when,"), "p_mw", "time: no 'time' column"),
        ("time,1 [MW]\n2016-06-21T00:00:00+01:00,0.1\n", "p_mw", "got 1 rows; expected at least 2"),
    ],
)
def test_bad_csv(tmp_path, text, quantity, fragment):
    path = _csv(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_profile_csv(path, element="load", quantity=quantity, net=NET, utc_offset_s=3600)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message


def test_csv_profile_drives_a_run_and_must_cover_it(tmp_path, write_scenario):
    from gridtwin.scenario import load_scenario
    from gridtwin.world import prepare

    rows = ["time,1 [pu],2 [pu]"]
    for k in range(5):  # 00:00 .. 01:00, hourly scaling
        rows.append(f"2016-06-21T{k:02d}:00:00+01:00,{0.5 + 0.1 * k},1.0")
    (tmp_path / "scale.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = {
        "name": "csv",
        "grid": {"pandapower": "case33bw"},
        "time": {"start": "2016-06-21T00:00:00+01:00", "duration": "2h", "step": "30min"},
        "profiles": {
            "source": "csv",
            "interpolation": "linear",
            "files": [{"path": "scale.csv", "element": "load", "quantity": "scaling"}],
        },
    }
    prep = prepare(load_scenario(write_scenario(data)))
    p = prep.profiles.series[("load", "p_mw")]
    nominal = NET.load.p_mw.iloc[1]
    np.testing.assert_allclose(p[:, 1], nominal * np.array([0.5, 0.55, 0.6, 0.65]))
    np.testing.assert_allclose(p[:, 0], NET.load.p_mw.iloc[0])  # no column: rated value
    data["time"]["duration"] = "6h"
    with pytest.raises(InputError, match="scale.csv: time: the file does not cover the run"):
        prepare(load_scenario(write_scenario(data)))
