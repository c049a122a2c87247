"""Atomic file writes: write to a temporary file in the target folder, then rename."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from verify.errors import UserError


def ensure_writable_dir(path: Path) -> None:
    """Create ``path`` (a folder) if needed; raise UserError if it cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK):
        raise UserError(f"output folder is not writable: {path}")


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    path = Path(path)
    ensure_writable_dir(path.parent if str(path.parent) else Path("."))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=1, allow_nan=False, default=_default) + "\n")


def _default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
