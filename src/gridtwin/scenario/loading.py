"""Reading a scenario file or dictionary, and writing it back as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gridtwin.errors import InputError
from gridtwin.scenario.messages import to_input_error
from gridtwin.scenario.model import Scenario

__all__ = [
    "dump_scenario",
    "load_scenario",
    "scenario_from_dict",
]


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Relative paths inside it (network and profile files) are resolved against
    the scenario file's folder.

    Raises
    ------
    InputError
        One line naming the file, the field and what was expected.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "", "no such file; expected a scenario YAML file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", exc)
        raise InputError(str(path), where, f"not valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "", "not a text file; expected UTF-8 YAML") from None
    return scenario_from_dict(data, source=str(path), base_dir=path.parent)


def scenario_from_dict(
    data: Any, *, source: str = "<scenario>", base_dir: str | Path = "."
) -> Scenario:
    """Validate a scenario given as a dictionary (as parsed from YAML)."""
    if not isinstance(data, dict):
        raise InputError(source, "", f"got {type(data).__name__}; expected a YAML mapping")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise to_input_error(exc, source, Scenario) from None
    base = Path(base_dir)
    if scenario.grid.file:
        scenario.grid.file = str((base / scenario.grid.file).resolve())
    for spec in scenario.profiles.files:
        spec.path = str((base / spec.path).resolve())
    object.__setattr__(scenario, "_source_file", source)
    object.__setattr__(scenario, "_n_inline_events", len(scenario.events))
    if scenario.measurements_file:
        scenario.measurements_file = str((base / scenario.measurements_file).resolve())
    if scenario.events_file:
        from gridtwin.event_log import read_event_log

        scenario.events_file = str((base / scenario.events_file).resolve())
        scenario.events.extend(read_event_log(scenario.events_file))
    return scenario


def dump_scenario(scenario: Scenario) -> str:
    """The scenario as YAML with every default filled in."""
    data = scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
