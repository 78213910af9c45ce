"""The one exception type for bad input, and its one-line message."""

from __future__ import annotations

from gridtwin.redact import redact_text

__all__ = ["InputError", "expected_message"]


class InputError(Exception):
    """Bad input from a user: a scenario, network, profile or event file.

    The message is one line: ``FILE: FIELD: what was wrong; expected WHAT``.
    The command line prints it and exits with status 2. Any password or
    token in it (a URL's ``user:password@``, ``?p=...``) is replaced by ``***``.

    Parameters
    ----------
    file : str
        The file the bad input came from (or ``<scenario>`` when built in code).
    field : str
        The path of the field, e.g. ``time.step`` or ``events[2].target``;
        empty when the whole file is wrong.
    message : str
        What was given and what was expected.
    """

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file = redact_text(str(file))
        self.field = redact_text(field)
        self.message = redact_text(" ".join(str(message).split()))
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


def expected_message(msg: str) -> str:
    """A pydantic validation message rephrased as gridtwin's ``expected ...`` wording.

    Parameters
    ----------
    msg : str
        The ``msg`` of one pydantic error.
    """
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if msg.startswith("Input should be "):
        return "expected " + msg.removeprefix("Input should be ")
    if msg.startswith("String should match pattern "):
        return "expected letters, digits, '_', '.' or '-' only (" + msg.lower() + ")"
    return msg
