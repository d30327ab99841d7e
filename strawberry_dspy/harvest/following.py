"""Following a harvest from outside it (the live UI): whether a process is writing the directory, and the progress
record that process keeps in its store. Light: no dspy, so a reader pays only for the store."""

from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

from strawberry_dspy.stage_output import OutputKind
from strawberry_dspy.store import STORE_FILE

HARVEST_DIR = OutputKind("harvest", "harvest directory", (STORE_FILE,))
PROGRESS_META = "progress_json"  # the store's meta key of the latest `HarvestProgress.record`
RUNNING, FINISHED, INTERRUPTED, STOPPED = "running", "finished", "interrupted", "stopped"


def is_writing(out: str | Path) -> bool:
    """Whether a harvest process holds the directory's lock now (the OS drops it when the process dies)."""
    try:
        handle = open(Path(out) / HARVEST_DIR.lock_file)  # read-only: a reader creates nothing
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def rate_and_eta(record: dict) -> tuple[float, float | None]:
    """(units per second, seconds left) of a progress record; None when nothing is done yet."""
    done, elapsed = record.get("done", 0), record.get("elapsed_s", 0.0)
    rate = done / elapsed if elapsed > 0 else 0.0
    left = max(record.get("total", 0) - done, 0)
    return rate, (left / rate if rate > 0 else None) if left else 0.0


def progress_of(meta: dict[str, str], writing: bool, now: float | None = None) -> dict | None:
    """The latest progress record of a store's meta, its state made true: a record that says running while no
    process writes the directory is `stopped` (the harvest was killed); elapsed time runs on while it runs."""
    try:
        record = json.loads(meta.get(PROGRESS_META) or "null")
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if record.get("state") == RUNNING:
        if writing:
            record["elapsed_s"] = record.get("elapsed_s", 0.0) + max((now or time.time()) - record["updated_at"], 0.0)
        else:
            record["state"] = STOPPED
    return record


def describe_progress(record: dict) -> str:
    """One line: state, done / total, traces/s, ETA, failures, 429s and retries, the rate-limit status, the batch."""
    rate, eta = rate_and_eta(record)
    parts = [f"{record['state']}", f"{record['done']} / {record['total']} samples this run"]
    if record["state"] == RUNNING:
        parts.append(f"{rate:.2f} traces/s")
        parts.append(f"ETA {_duration(eta)}" if eta is not None else "ETA -")
    else:
        parts.append(f"in {_duration(record.get('elapsed_s', 0.0))}")
    parts.append(f"{record.get('failed', 0)} failed")
    parts.append(f"{record.get('rate_limited', 0)} x 429, {record.get('retries', 0)} retries")
    if record["state"] == RUNNING and record.get("throttle"):
        parts.append(record["throttle"])
    if record["state"] == RUNNING and record.get("batch"):  # a --batch harvest: its batch in flight
        parts.append(record["batch"])
    if record["state"] == STOPPED:
        parts.append("the harvest process ended before finishing: rerun the same command to resume")
    return " · ".join(parts)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
