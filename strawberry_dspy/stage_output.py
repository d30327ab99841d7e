"""A stage's output: its default name, its lock, its log, its provenance, and how it is replaced or removed.

The project's rule lives here, and only here: no command deletes or overwrites anything it did not create.
Every output a command writes carries a marker file (`.strawberry-output.json`: the command and the kind
of output). `--out` onto an existing path is then refused with one line unless

- the path is not the command's own input (`export --out SRC` where SRC is the harvest being exported),
- it is a directory, not a regular file,
- it is empty, or an output of the same command and kind holding nothing the command did not write.

A replaced output is written beside (a hidden sibling), renamed into place, and only then is the old one
deleted; a resumable output (a harvest, a compile, a bootstrap loop) is reopened, never replaced. This
module is the one place that deletes output trees (`shutil.rmtree`) or files (`unlink`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from glob import escape as glob_escape
from pathlib import Path

import yaml
from loguru import logger

from strawberry_dspy.errors import UserError
from strawberry_dspy.provenance import package_versions

MARKER = ".strawberry-output.json"
DONE_MARKER = "done.json"  # in each stage folder of a multi-stage output (bootstrap): the stage finished, and with what
SIBLING = re.compile(r"(?:tmp|old)-(\d+)-[0-9a-f]{8}")  # what _sibling names, after ".OUT."
RUNS = Path("runs")


@dataclass(frozen=True)
class OutputKind:
    """What a command writes: `signature` names files that identify one written before markers existed."""

    command: str
    kind: str
    signature: tuple[str, ...] = ()
    # For replaced outputs written before markers: every name such an output may hold (empty: none is recognised)
    legacy_names: frozenset[str] = frozenset()
    added_later: tuple[str, ...] = ()  # name patterns the project adds to a finished output (a GGUF when served)

    @property
    def lock_file(self) -> str:
        """The lock file a resumable output holds while a process writes it."""
        return f".{self.command}.lock"

    def marker(self, names: Iterable[str] | None = None) -> dict:
        return {"command": self.command, "kind": self.kind, **({"names": sorted(names)} if names is not None else {})}


# ---------------------------------------------------------------------------------------------- naming

def task_slug(benchmark: str) -> str:
    """A benchmark spec as a file-name part: 'reasoning_gym:basic_arithmetic?level=1' -> 'reasoning_gym-basic_arithmetic'."""
    return benchmark.split("?")[0].replace(":", "-").replace("/", "-")


def digest(key: object, length: int = 8) -> str:
    """A short hash of a JSON-able key: the same inputs name the same output."""
    return hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:length]


def default_dir(name: str, key: object, length: int = 8, under: Path = RUNS) -> Path:
    """runs/<name>-<hash of key>."""
    return under / f"{name}-{digest(key, length)}"


# ---------------------------------------------------------------------------------------------- the rule

def read_marker(folder: Path) -> dict | None:
    """The marker of an output this project wrote, or None."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def read_done(stage_dir: Path) -> dict | None:
    """A finished stage's DONE_MARKER (what it produced), or None when the stage has not finished."""
    path = stage_dir / DONE_MARKER
    return json.loads(path.read_text()) if path.is_file() else None


def write_done(stage_dir: Path, record: dict) -> Path:
    """Mark a stage finished with its record, atomically (a rerun skips it)."""
    return write_json(stage_dir / DONE_MARKER, record)


def is_input(out: Path, sources: Iterable[str | Path]) -> Path | None:
    """The source that `out` is, or lies inside of `out` (replacing `out` would delete it); None when none does."""
    target = out.resolve()
    for source in sources:
        resolved = Path(source).resolve()
        if resolved == target or target in resolved.parents:
            return Path(source)
    return None


def _refuse_input_or_file(out: Path, kind: OutputKind, sources: Iterable[str | Path]) -> None:
    source = is_input(out, sources)
    if source is not None:
        raise UserError(f"--out {out} is (or holds) {source}, the input of this {kind.command}: it is never replaced; "
                        "pass another --out")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file, not a {kind.kind}: {kind.command} never replaces a file; "
                        "pass a directory path that does not exist yet")
    check_creatable(out.parent)


def check_creatable(folder: Path) -> None:
    """Refuse (the make_dir message) a folder that cannot be created, before any work: a file in the way, or
    a nearest existing folder this user cannot write into."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise UserError(f"cannot create folder {folder}: it, or a folder above it, is a file; pass another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"cannot create folder {folder} (no permission to write in {existing}); "
                        "pass a path you can write")


def _foreign(out: Path, kind: OutputKind, replaced: bool) -> str | None:
    """Why `out` is not an output of `kind` that the command may reopen or replace; None when it is."""
    names = {p.name for p in out.iterdir()} - {MARKER, kind.lock_file}
    if not names and not (out / MARKER).exists():
        return None  # an empty directory (or one holding only our lock): nothing to lose
    marker = read_marker(out)
    if marker is not None:
        if (marker.get("command"), marker.get("kind")) != (kind.command, kind.kind):
            return f"a {marker.get('kind')} written by strawberry {marker.get('command')}"
        if replaced and "names" in marker:
            others = sorted(n for n in names - set(marker["names"])
                            if not any(fnmatch(n, pattern) for pattern in kind.added_later))
            if others:
                return f"{len(others)} item(s) {kind.command} did not write ({', '.join(others[:3])})"
        return None
    if not any(name in names for name in kind.signature):
        return f"{len(names)} item(s) that are not a {kind.kind} ({', '.join(sorted(names)[:3])})"
    if replaced and not names <= kind.legacy_names:
        others = sorted(names - kind.legacy_names)
        return f"{len(others)} item(s) {kind.command} did not write ({', '.join(others[:3])})"
    return None


def check_replace(out: Path, kind: OutputKind, *, overwrite: bool = True, sources: Iterable[str | Path] = ()) -> None:
    """Refuse (UserError, one line) an `out` this command may not replace; nothing is touched either way."""
    out = Path(out)
    _refuse_input_or_file(out, kind, sources)
    if not out.exists():
        return
    if not overwrite:
        raise UserError(f"output {out} already exists: pass --overwrite to replace it or --out to choose another path")
    why = _foreign(out, kind, replaced=True)
    if why:
        raise UserError(f"--out {out} holds {why}: {kind.command} replaces only a {kind.kind} it wrote itself; "
                        "pass another --out")


def check_claim(out: Path, kind: OutputKind, sources: Iterable[str | Path] = ()) -> None:
    """Refuse (UserError, one line) an `out` that claim_dir would refuse; nothing is created or touched."""
    out = Path(out)
    _refuse_input_or_file(out, kind, sources)
    if out.is_dir():
        why = _foreign(out, kind, replaced=False)
        if why:
            raise UserError(f"--out {out} holds {why}: {kind.command} writes only into a new or empty directory "
                            f"or a {kind.kind} of its own; pass another --out")


def claim_dir(out: Path, kind: OutputKind, sources: Iterable[str | Path] = ()) -> Path:
    """Create or reopen a resumable output directory (marked as `kind`); refuse one holding anything else."""
    out = Path(out)
    check_claim(out, kind, sources)
    make_dir(out)
    if read_marker(out) is None:
        write_json(out / MARKER, kind.marker())
    return out


def check_output_file(path: Path, kind: OutputKind, is_own: Callable[[Path], bool]) -> None:
    """A single-file output: refuse a directory, or an existing file that `is_own` does not recognise."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path} is a directory, not a {kind.kind}: pass a file path")
    if path.exists() and not is_own(path):
        raise UserError(f"{path} exists and is not a {kind.kind}: {kind.command} never replaces a file it did not "
                        "write; pass another path")


# ---------------------------------------------------------------------------------------------- writing

@contextmanager
def staged(out: Path, kind: OutputKind, *, sources: Iterable[str | Path] = (), keep_existing: bool = False
           ) -> Iterator[Path]:
    """Yield an empty hidden sibling of `out` to write into; on success mark it and move it into place.

    An existing output (checked again here) is moved aside first and deleted only after the rename; on an
    error or Ctrl-C the sibling, and the empty folders above it that this call made, are deleted and `out` is as it
    was. With keep_existing, an `out` that appeared
    meanwhile (a concurrent writer of the same cache entry) is kept and ours discarded.
    """
    out = Path(out)
    sources = list(sources)
    if not keep_existing:
        check_replace(out, kind, sources=sources)  # refused before any work, not after it
    made = [p for p in (out.parent, *out.parent.parents) if not p.exists()]  # innermost first
    make_dir(out.parent)
    remove_stale_siblings(out)
    tmp = _sibling(out, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        write_json(tmp / MARKER, kind.marker(p.name for p in tmp.iterdir()))
        if keep_existing and out.is_dir() and _foreign(out, kind, replaced=False) is None:
            return
        check_replace(out, kind, sources=sources)
        _swap_into_place(tmp, out)
        made = []
    finally:
        _remove_tree(tmp)
        for folder in made:  # a failed stage (a streamed export finds no rows) leaves no folder it created
            try:
                folder.rmdir()
            except OSError:  # not empty: something else is in it now
                break


def _swap_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    old = _sibling(out, "old")
    out.rename(old)
    tmp.rename(out)
    _remove_tree(old)


def remove_stale_siblings(out: Path) -> list[Path]:
    """Delete the hidden siblings (`.OUT.tmp-PID-*`, `.OUT.old-PID-*`) that a killed earlier run of this output left:
    only names of this pattern, and only those whose process is gone. Returns what was removed."""
    removed = []
    for sibling in out.parent.glob(f".{glob_escape(out.name)}.*-*-*"):
        match = SIBLING.fullmatch(sibling.name[len(out.name) + 2:])
        if match and not _alive(int(match.group(1))):
            _remove_tree(sibling)
            removed.append(sibling)
    if removed:
        logger.info("removed {} half-written folder(s) a killed earlier run left beside {}", len(removed), out)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sibling(out: Path, what: str) -> Path:
    """A hidden, unique sibling name (unique per thread too: two conversions may race in one process)."""
    return out.with_name(f".{out.name}.{what}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def make_dir(folder: Path) -> Path:
    """Create a folder (and its parents); a file in the way or a place that cannot be written is a UserError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"cannot create folder {folder}: it, or a folder above it, is a file; pass another path") from None
    except OSError as exc:
        raise UserError(f"cannot create folder {folder} ({exc.strerror or exc}); pass a path you can write") from None
    return folder


def write_file(path: Path, write: Callable[[Path], None]) -> Path:
    """Write one file atomically: `write(tmp)` fills a hidden sibling that then replaces `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # an OSError is the caller's to word (stats: "cannot write the plot")
    # unique per process and thread (two threads may write one cache entry); the suffix kept: writers pick formats by it
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}-{threading.get_ident()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: Path, data: dict) -> Path:
    """Write JSON atomically (a marker or record is either whole or absent)."""
    return write_file(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def write_provenance(folder: Path, config: dict) -> None:
    """config.yaml (the resolved config) and versions.json (the packages it ran with) into an output."""
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    write_file(folder / "config.yaml", lambda tmp: tmp.write_text(text))
    write_json(folder / "versions.json", package_versions())


def remove_created(folder: Path, names: Iterable[str]) -> None:
    """Delete entries this command wrote into its own output (`--fresh`), claimed first with claim_dir."""
    folder = Path(folder)
    for name in names:
        _remove_tree(folder / name)


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- lock and log

def lock_output(out: Path, kind: OutputKind, busy: str):
    """Hold an exclusive lock on `out` (a file released by the OS even on SIGKILL); UserError(busy) when taken."""
    make_dir(out)
    handle = open(out / kind.lock_file, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise UserError(busy) from None
    return handle


@contextmanager
def log_to(path: Path, mode: str = "a") -> Iterator[Path]:
    """Copy the library's log (DEBUG and up) into `path` while the block runs."""
    sink = logger.add(path, level="DEBUG", mode=mode)
    try:
        yield path
    finally:
        logger.remove(sink)
