"""The pandapower-free cache of SimBench tables and profiles that ``validate`` reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from gridtwin.errors import InputError
from gridtwin.grid import netcache
from gridtwin.prepare import prepare
from gridtwin.scenario import GridSpec, load_scenario

from .conftest import base_scenario

CODE = "1-MV-rural--0-sw"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("GRIDTWIN_CACHE", str(root))
    return root


def _scenario(tmp_path: Path, **overrides):
    data = base_scenario(grid={"simbench": CODE}, **overrides)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_scenario(path)


def test_a_full_prepare_keeps_tables_and_profiles_that_check_only_reads(tmp_path, cache):
    sc = _scenario(tmp_path)
    full = prepare(sc)
    assert netcache.is_kept(CODE, "tables") and netcache.is_kept(CODE, "profiles")
    checked = prepare(sc, check_only=True)
    assert isinstance(checked.net, netcache.TableNet)
    for table in ("bus", "line", "trafo", "load", "sgen", "switch", "ext_grid"):
        assert checked.net[table].equals(full.net[table]), table
    for key, series in full.profiles.series.items():
        np.testing.assert_array_equal(checked.profiles.series[key], series)


def test_check_only_refuses_what_the_full_prepare_refuses(tmp_path, cache):
    prepare(_scenario(tmp_path))  # keeps the tables
    bad = {"plan": [{"device": "scada", "at": "names", "element": "bus", "names": ["no such bus"]}]}
    sc = _scenario(tmp_path, measurements=bad)
    with pytest.raises(InputError) as full:
        prepare(sc)
    with pytest.raises(InputError) as light:
        prepare(sc, check_only=True)
    assert str(light.value) == str(full.value)


def test_kept_tables_are_rechecked_for_the_engine(tmp_path, cache):
    prepare(_scenario(tmp_path))
    tables = netcache.read_tables(CODE)
    assert tables is not None
    tables.line.loc[tables.line.index[0], "length_km"] = -1.0
    netcache.write_tables(CODE, tables)
    with pytest.raises(InputError, match="length_km"):
        netcache.load_tables(GridSpec(simbench=CODE), "s.yaml")


def test_a_broken_cache_entry_is_rebuilt(tmp_path, cache):
    sc = _scenario(tmp_path)
    prepare(sc)
    for path in (cache / "simbench").glob("*-tables-*.pkl"):
        path.write_bytes(b"not a pickle")
    assert netcache.read_tables(CODE) is None
    assert not netcache.is_kept(CODE, "tables")  # the broken entry is gone
    prepare(sc)
    assert netcache.read_tables(CODE) is not None


@pytest.mark.parametrize("grid", [{"simbench": CODE}, {"pandapower": "case33bw"}])
def test_validate_with_kept_tables_imports_no_pandapower(tmp_path, cache, grid):
    data = base_scenario(grid=grid)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    sc = load_scenario(path)
    prepare(sc)
    code = (
        "import sys\n"
        "from gridtwin.cli import app\n"
        f"sys.argv = ['gridtwin', 'validate', {str(sc.source_file)!r}]\n"
        "try:\n    app()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
        "heavy = [m for m in ('pandapower', 'simbench', 'mosaik', 'sklearn', 'pvlib') "
        "if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("ok: ")
    assert "heavy: []" in out


def _validate_in_a_new_process(path: Path) -> str:
    code = (
        "import sys\n"
        "from gridtwin.cli import app\n"
        f"sys.argv = ['gridtwin', 'validate', {str(path)!r}]\n"
        "try:\n    app()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
        "heavy = [m for m in ('pandapower', 'simbench', 'mosaik', 'sklearn', 'pvlib') "
        "if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_the_reconfiguration_check_is_kept_per_section(tmp_path, cache):
    """With reconfiguration and forecasting, a second validate imports no pandapower;
    a changed reconfiguration section is checked on the full net again."""
    source = Path(__file__).parent.parent / "scenarios" / "mv-rural-all-functions.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    path = tmp_path / "all.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    first = _validate_in_a_new_process(path)
    assert first.startswith("ok: ") and "'pandapower'" in first  # checked on the full net
    assert "heavy: []" in _validate_in_a_new_process(path)
    data["reconfiguration"]["vm_min_pu"] = 0.91
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert "'pandapower'" in _validate_in_a_new_process(path)
