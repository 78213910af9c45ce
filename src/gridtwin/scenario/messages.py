"""The one translation of a pydantic ``ValidationError`` into a one-line :class:`InputError`."""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from gridtwin.errors import InputError, expected_message

__all__ = [
    "expected_text",
    "to_input_error",
]


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (for key suggestions)."""
    model: Any = root
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


expected_text = expected_message


def to_input_error(exc: ValidationError, source: str, root: type[BaseModel]) -> InputError:
    """The first error of ``exc`` as one line naming ``source``, the field and what was expected.

    ``root`` is the model that was validated (for the keys suggested on a typo).
    """
    err = exc.errors(include_url=False)[0]
    loc = tuple(err.get("loc", ()))
    if err["type"] == "extra_forbidden":
        key = str(loc[-1])
        owner = _model_at(root, loc[:-1])
        valid = list(owner.model_fields) if owner else []
        hint = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        suggestion = f"did you mean {hint[0]!r}? " if hint else ""
        return InputError(
            source,
            _loc_to_path(loc),
            f"unknown key; {suggestion}expected one of {', '.join(valid)}",
        )
    if err["type"] == "missing":
        return InputError(source, _loc_to_path(loc), "missing; this field is required")
    msg = expected_text(err["msg"])
    field = _loc_to_path(loc)
    # Errors raised in model validators name their sub-field as "field: ..."
    head, sep, rest = msg.partition(": ")
    if sep and head.replace("_", "").isalnum() and " " not in head:
        field = f"{field}.{head}" if field else head
        msg = rest
    given = err.get("input")
    if not isinstance(given, dict | list) and "got " not in msg and given is not None:
        msg = f"got {given!r}; {msg}"
    return InputError(source, field, msg)
