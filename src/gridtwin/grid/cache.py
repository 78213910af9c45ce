"""Where gridtwin keeps what it built once (``$GRIDTWIN_CACHE`` or ~/.cache/gridtwin)."""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["cache_file"]


def cache_file(folder: str, key: str, suffix: str) -> Path | None:
    """The cache file of ``key`` in ``folder``, or None if ``GRIDTWIN_CACHE=off``.

    ``key`` is made safe for a file name (anything but letters, digits, ``_.-``
    becomes ``_``); ``suffix`` follows it as it is (versions, extension).
    """
    root = os.environ.get("GRIDTWIN_CACHE")
    if root == "off":
        return None
    base = (
        Path(root)
        if root
        else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gridtwin"
    )
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", key)
    return base / folder / f"{safe}{suffix}"
