"""Network sources and their errors."""

from __future__ import annotations

import json

import pandapower as pp
import pandapower.networks as pn
import pytest

from gridtwin.errors import InputError
from gridtwin.grid.sources import load_net, read_net_json
from gridtwin.scenario import GridSpec


@pytest.mark.parametrize(
    ("spec", "n_bus", "n_sgen"),
    [
        (GridSpec(pandapower="case33bw"), 33, 0),
        (GridSpec(pandapower="cigre_mv"), 15, 0),
        (GridSpec(pandapower="cigre_mv", options={"with_der": "pv_wind"}), 15, 9),
        (GridSpec(pandapower="mv_oberrhein"), 179, 153),
        (GridSpec(simbench="1-MV-rural--0-sw"), 97, 102),
    ],
)
def test_networks_load(spec, n_bus, n_sgen):
    net = load_net(spec)
    assert len(net.bus) == n_bus
    assert len(net.sgen) == n_sgen


def test_simbench_taps_become_ratio_tap_changers():
    net = load_net(GridSpec(simbench="1-MV-rural--0-sw"))
    assert (net.trafo["tap_changer_type"] == "Ratio").all()
    assert net.trafo["vector_group"].notna().all()


def test_json_file_roundtrip(tmp_path):
    path = tmp_path / "net.json"
    pp.to_json(pn.case33bw(), str(path))
    assert len(read_net_json(path).line) == 37


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"hello": 1}), "not a pandapower network"),
        ("", "not valid JSON"),
    ],
)
def test_bad_network_file(tmp_path, content, fragment):
    path = tmp_path / "net.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_net_json(path)
    assert str(info.value).startswith(str(path))
    assert fragment in str(info.value)


def test_network_with_dangling_bus_reference(tmp_path):
    net = pn.case33bw()
    net.load.loc[net.load.index[0], "bus"] = 999
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    with pytest.raises(
        InputError, match=r"load\[0\]\.bus: refers to bus 999, which does not exist"
    ):
        read_net_json(path)


def test_missing_network_file(tmp_path):
    with pytest.raises(InputError, match="no such file; expected a pandapower JSON network"):
        read_net_json(tmp_path / "missing.json")


def test_unknown_option():
    with pytest.raises(InputError, match="grid.options"):
        load_net(GridSpec(pandapower="case33bw", options={"nonsense": 1}))
