"""CGMES grids: a zip of the EQ/SSH/TP/SV profiles (CGMES 2.4.15 or 3.0) as a pandapower net.

The conversion itself is pandapower's CIM converter
(:func:`pandapower.converter.cim.cim2pp.from_cim.from_cim_dict`, maintained
with pandapower, which gridtwin already builds on). This module is the edge
around it: it checks the zip and its profiles, refuses the classes gridtwin's
power flow does not model instead of dropping them, and picks the slack.

CGMES 3.0 (namespace ``CIM100``): ``Equipment.inService`` is optional there,
and pandapower's 3.0 path needs it on every equipment (a missing value would
turn loads and machines off, and ``ACLineSegment`` fails outright); between
parsing and converting, :func:`_fill_in_service` gives it the SSH value, else
the SV ``SvStatus.inService``, else ``true``.

Slack: the synchronous machine with the highest ``referencePriority`` (> 0)
in SSH; if no machine has one (pypowsybl's exports write 0 everywhere), the
machine with the largest active-power set-point. That machine becomes the
net's ``ext_grid`` at its bus and voltage set-point (a slack is an ideal
source; the other machines stay voltage-controlled ``gen``).

Errors are one line naming the file, the profile or class, and what was expected.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd

from gridtwin.errors import InputError

__all__ = ["SUPPORTED_PROFILES", "read_cgmes"]

SUPPORTED_PROFILES = ("EQ", "SSH", "TP", "SV", "EQ_BD", "TP_BD")
"""Profiles read (boundary profiles optional)."""

# md:Model.profile URIs (2.4.15: entsoe.eu/CIM/<Name>/<v>; 3.0: iec.ch/TC57/ns/CIM/<Name>-EU/<v>)
_PROFILE_NAMES = {
    "EquipmentCore": "EQ",
    "EquipmentOperation": "EQ",
    "EquipmentShortCircuit": "EQ",
    "CoreEquipment-EU": "EQ",
    "Operation-EU": "EQ",
    "ShortCircuit-EU": "EQ",
    "EquipmentBoundary": "EQ_BD",
    "EquipmentBoundaryOperation": "EQ_BD",
    "EquipmentBoundary-EU": "EQ_BD",
    "SteadyStateHypothesis": "SSH",
    "SteadyStateHypothesis-EU": "SSH",
    "Topology": "TP",
    "Topology-EU": "TP",
    "TopologyBoundary": "TP_BD",
    "StateVariables": "SV",
    "StateVariables-EU": "SV",
    "DiagramLayout": "DL",
    "DiagramLayout-EU": "DL",
    "GeographicalLocation": "GL",
    "GeographicalLocation-EU": "GL",
    "Dynamics": "DY",
    "Dynamics-EU": "DY",
}
_SUFFIX = re.compile(r"_(EQ_BD|TP_BD|EQ|SSH|TP|SV|DL|GL|DY)(?:_[^/]*)?\.xml$", re.IGNORECASE)
_PROFILE_URI = re.compile(rb"<md:Model\.profile>\s*([^<\s]+)\s*</md:Model\.profile>")
_CIM_NS = re.compile(rb'xmlns:cim="([^"]+)"')

# Classes the converter would drop or map to models gridtwin's power flow lacks.
_UNSUPPORTED_CLASSES = (
    "VsConverter",
    "CsConverter",
    "DCLineSegment",
    "DCConverterUnit",
    "PowerElectronicsConnection",
    "SeriesCompensator",
    "StaticVarCompensator",
    "EquivalentBranch",
    "EquivalentInjection",
    "AsynchronousMachine",
)
# pandapower tables gridtwin's engines model (anything else left non-empty is refused)
_MODELLED_TABLES = {"bus", "line", "trafo", "load", "sgen", "gen", "shunt", "switch", "ext_grid"}
_ELEMENT_TABLES = ("trafo3w", "impedance", "ward", "xward", "dcline", "svc", "tcsc", "motor")

SUPPORTED_CLASSES_TEXT = (
    "ACLineSegment, PowerTransformer (two windings), EnergyConsumer/ConformLoad/NonConformLoad, "
    "SynchronousMachine, ExternalNetworkInjection, LinearShuntCompensator, switches"
)


def read_cgmes(path: str | Path) -> pp.pandapowerNet:
    """Read a CGMES data set (one zip of EQ, SSH, TP, SV profile files).

    Parameters
    ----------
    path : str or Path
        The zip file.

    Returns
    -------
    pandapowerNet
        The grid, with one ``ext_grid`` (the slack, see the module doc).

    Raises
    ------
    InputError
        Not a zip, a missing or unsupported profile, an unsupported class, a
        line joining buses of different nominal voltage, or no slack candidate.
    """
    src = str(path)
    if not Path(path).is_file():
        raise InputError(src, "", "no such file; expected a CGMES zip (EQ, SSH, TP, SV)")
    _, version = _check_zip(src)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # the converter's pandas warnings, its prints
            net = _convert(src, version)
    except Exception as exc:
        raise InputError(
            src,
            "",
            f"the CGMES {version} converter failed ({type(exc).__name__}: {exc}); "
            f"expected {SUPPORTED_CLASSES_TEXT}",
        ) from None
    _check_converted(net, src)
    _make_slack(net, src)
    # a line without an operational current limit in the data set has no rating: pandapower's
    # placeholder, shown as n/a loading (gridtwin.grid.engine.UNRATED_KA)
    net.line["max_i_ka"] = net.line["max_i_ka"].fillna(99999.0)
    if "controller" in net:
        net.controller = net.controller.iloc[0:0]
    return net


def _convert(src: str, version: str) -> pp.pandapowerNet:
    """Parse with pandapower's CIM parser, fill CGMES 3.0 ``inService``, convert."""
    from pandapower.converter.cim.cim2pp import from_cim
    from pandapower.converter.cim.cim_classes import CimParser

    parser = CimParser(cgmes_version=version)
    parser.parse_files(file_list=[src], prepare_cim_net=True, set_data_types=False)
    if version == "3.0":
        _fill_in_service(parser.get_cim_dict())
    parser.set_cim_data_types()
    return from_cim.from_cim_dict(parser, cim_version=version)


def _fill_in_service(cim: dict) -> None:
    """Give every CGMES 3.0 equipment an ``inService`` (``Equipment.inService`` is optional).

    pandapower's 3.0 path reads ``inService`` on each equipment class (and on
    ``ACLineSegment``, where its parser never puts it); a missing value would
    become ``False``, i.e. out of service. The value used: the SSH
    ``Equipment.inService`` if written, else the SV ``SvStatus.inService`` of
    the equipment (pypowsybl writes this one), else ``True`` (in service; the
    terminals' ``connected`` still applies).
    """
    status: dict[str, bool] = {}
    sv_status = cim.get("sv", {}).get("SvStatus")
    if sv_status is not None and {"ConductingEquipment", "inService"} <= set(sv_status):
        status.update(
            zip(sv_status["ConductingEquipment"], _as_bool(sv_status["inService"]), strict=True)
        )
    for frame in cim.get("ssh", {}).values():
        if "inService" in frame and len(frame):
            known = frame[frame["inService"].notna()]
            status.update(zip(known["rdfId"], _as_bool(known["inService"]), strict=True))
    targets = [(p, t) for p in ("ssh", "eq") for t, f in cim.get(p, {}).items() if "inService" in f]
    targets.append(("eq", "ACLineSegment"))
    for profile, table in targets:
        frame = cim[profile].get(table)
        if frame is None or not len(frame):
            continue
        frame = frame.copy()
        value = frame["rdfId"].map(status)
        if "inService" in frame:
            given = frame["inService"].notna()
            value[given] = _as_bool(frame.loc[given, "inService"])
        frame["inService"] = value.fillna(True).astype(bool)
        cim[profile][table] = frame


def _as_bool(values: pd.Series) -> list[bool]:
    """CIM booleans (``true``/``false`` literals, or already bools) as bools."""
    return [v is True or str(v).strip().lower() == "true" for v in values]


def _check_zip(src: str) -> tuple[dict[str, str], str]:
    """The profile of each member and the CGMES version; one-line errors otherwise."""
    try:
        archive = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(src, "", f"not a zip file ({exc}); expected a CGMES zip") from None
    profiles: dict[str, str] = {}
    versions: set[str] = set()
    with archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".xml")]
        if not members:
            raise InputError(src, "", "no XML file in the zip; expected EQ, SSH, TP, SV profiles")
        for member in members:
            try:
                head = archive.read(member)[:8192]
                text = archive.read(member)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise InputError(src, member, f"cannot be read ({exc})") from None
            profile = _profile_of(member, head)
            if profile not in SUPPORTED_PROFILES:
                raise InputError(
                    src,
                    member,
                    f"profile {profile} is not supported; expected one of "
                    + ", ".join(SUPPORTED_PROFILES),
                )
            profiles[member] = profile
            ns = _CIM_NS.search(head)
            if ns:
                versions.add("3.0" if b"CIM100" in ns.group(1) else "2.4.15")
            if profile == "EQ":
                for cls in _UNSUPPORTED_CLASSES:
                    if re.search(rf"<cim:{cls}[\s>]".encode(), text):
                        raise InputError(
                            src,
                            member,
                            f"class {cls} is not supported; expected {SUPPORTED_CLASSES_TEXT}",
                        )
    missing = [p for p in ("EQ", "SSH", "TP") if p not in profiles.values()]
    if missing:
        raise InputError(
            src, "", f"no {', '.join(missing)} profile; expected EQ, SSH, TP (and SV) in the zip"
        )
    if len(versions) > 1:
        raise InputError(src, "", "profiles of CGMES 2.4.15 and 3.0 mixed; expected one version")
    return profiles, versions.pop() if versions else "2.4.15"


def _profile_of(member: str, head: bytes) -> str:
    uris = _PROFILE_URI.findall(head)
    for uri in uris:
        parts = uri.decode(errors="replace").rstrip("/").split("/")
        for part in reversed(parts):
            if part in _PROFILE_NAMES:
                return _PROFILE_NAMES[part]
    if uris:
        return uris[0].decode(errors="replace")
    match = _SUFFIX.search(member)
    if match:
        return match.group(1).upper()
    return "unknown (no md:Model.profile)"


def _check_converted(net: pp.pandapowerNet, src: str) -> None:
    for table in _ELEMENT_TABLES:
        if table in net and len(net[table]):
            frame = net[table]
            cls = (
                str(frame["origin_class"].iloc[0])
                if "origin_class" in frame and frame["origin_class"].notna().any()
                else table
            )
            raise InputError(
                src,
                cls,
                f"{len(frame)} element(s) that gridtwin's power flow does not model "
                f"(pandapower {table}); expected {SUPPORTED_CLASSES_TEXT}",
            )
    if len(net.bus) == 0:
        raise InputError(src, "TopologicalNode", "no bus in the data set; expected a TP profile")
    vn = net.bus["vn_kv"].to_numpy(dtype=float)
    pos = net.bus.index.get_indexer
    if len(net.line):
        a = vn[pos(net.line["from_bus"])]
        b = vn[pos(net.line["to_bus"])]
        bad = np.flatnonzero(~np.isclose(a, b, rtol=1e-6))
        if len(bad):
            i = int(bad[0])
            name = net.line["name"].iloc[i]
            raise InputError(
                src,
                "ACLineSegment",
                f"{name!r} joins buses of {a[i]:g} kV and {b[i]:g} kV; expected both ends "
                "at one nominal voltage (a transformer between voltage levels)",
            )
    for table in ("line", "trafo"):
        frame = net[table]
        cols = (
            ["r_ohm_per_km", "x_ohm_per_km"]
            if table == "line"
            else ["vk_percent", "vkr_percent", "vn_hv_kv", "vn_lv_kv", "sn_mva"]
        )
        if len(frame):
            values = frame[cols].to_numpy(dtype=float)
            if not np.isfinite(values).all():
                i = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
                cls = "ACLineSegment" if table == "line" else "PowerTransformer"
                raise InputError(
                    src,
                    cls,
                    f"{frame['name'].iloc[i]!r} has no finite impedance; expected r, x, ratedU",
                )


def _make_slack(net: pp.pandapowerNet, src: str) -> None:
    """Turn the reference machine into the ``ext_grid`` (module doc)."""
    if len(net.ext_grid) and net.ext_grid["in_service"].astype(bool).any():
        return
    gen = net.gen[net.gen["in_service"].astype(bool)] if len(net.gen) else net.gen
    if len(gen) == 0:
        raise InputError(
            src,
            "SynchronousMachine",
            "no machine and no ExternalNetworkInjection; expected a slack candidate",
        )
    if "slack" in gen and gen["slack"].fillna(False).astype(bool).any():
        chosen = gen.index[gen["slack"].fillna(False).astype(bool).to_numpy()][0]
    else:
        prio = (
            gen["referencePriority"].fillna(0).to_numpy(dtype=float)
            if "referencePriority" in gen
            else np.zeros(len(gen))
        )
        if (prio > 0).any():
            chosen = gen.index[int(np.argmax(prio))]
        else:
            chosen = gen.index[int(np.argmax(gen["p_mw"].fillna(0).to_numpy(dtype=float)))]
    row = net.gen.loc[chosen]
    pp.create_ext_grid(
        net,
        int(row["bus"]),
        vm_pu=float(row["vm_pu"]),
        va_degree=0.0,
        name=str(row["name"]),
    )
    net.gen = net.gen.drop(index=chosen)
