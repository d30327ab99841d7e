"""One writer per output directory: an exclusive lock file that the OS releases even on SIGKILL."""

from __future__ import annotations

import fcntl
from pathlib import Path

from strawberry_dspy.errors import UserError


def lock_directory(lock_file: Path, busy: str):
    """Hold an exclusive, non-blocking lock on `lock_file` (kept open by the caller); UserError(busy) when taken."""
    handle = open(lock_file, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UserError(busy) from None
    return handle
