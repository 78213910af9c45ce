"""Where gridtwin keeps what it built once (``$GRIDTWIN_CACHE`` or ~/.cache/gridtwin)."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

__all__ = ["cache_file", "read_pickle", "write_pickle"]


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


def read_pickle(path: Path | None) -> Any:
    """What :func:`write_pickle` kept at ``path``, or None (a broken entry is removed)."""
    if path is None or not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # a stale or broken entry: the caller rebuilds it
        path.unlink(missing_ok=True)
        return None


def write_pickle(path: Path | None, value: Any) -> None:
    """Keep ``value`` at ``path`` atomically (a temporary file, then a rename); never fails."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
