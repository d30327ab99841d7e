"""Reading a user's text file (recipe, benchmark rows): every way it can fail is one UserError line, never a traceback."""

from __future__ import annotations

from pathlib import Path

from strawberry_dspy.errors import UserError


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of a file; a missing file, a directory, no permission or other bytes is a UserError naming it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{what} not found: {str(path)!r}; check the path") from None
    except IsADirectoryError:
        raise UserError(f"{what} {str(path)!r} is a directory; pass a file") from None
    except PermissionError:
        raise UserError(f"cannot read {what} {str(path)!r}: permission denied; check its permissions") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark (Excel CSV) is not text
    except UnicodeDecodeError as exc:
        raise UserError(f"{what} {str(path)!r} is not UTF-8 text: byte 0x{data[exc.start]:02x} at byte offset "
                        f"{exc.start} ({exc.reason}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)") from None
