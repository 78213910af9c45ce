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
    "StrictLoader",
    "dump_scenario",
    "load_scenario",
    "scenario_from_dict",
]


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping that gives one key twice (``key`` names it)."""

    key = ""


class StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping.

    Plain YAML keeps the last of two equal keys; in a scenario that silently
    drops a whole section (a second ``time:``), so it is an error here.
    Keys brought in by a merge (``<<: *anchor``) may still be overridden.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class says so
                break
            if first is not None:
                exc = DuplicateKeyError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"given twice (line {first.line + 1} and line {key_node.start_mark.line + 1}); "
                    "expected each key once",
                    key_node.start_mark,
                )
                exc.key = str(key)
                raise exc
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


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
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictLoader)
    except DuplicateKeyError as exc:
        raise InputError(str(path), exc.key, str(exc.problem)) from None
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
