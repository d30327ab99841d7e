"""The harvest directory: `traces.sqlite`, `config.yaml`, `run.log`, `versions.json`, and who may write it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dspy

from strawberry_dspy.config import ProgramSettings
from strawberry_dspy.errors import UserError
from strawberry_dspy.harvest.following import HARVEST_DIR
from strawberry_dspy.provenance import package_versions
from strawberry_dspy.store import STORE_FILE, TraceStore
from strawberry_dspy.stage_output import check_claim, claim_dir, default_dir, lock_output, remove_created, task_slug

# What must match for a rerun to resume a store: traces of another program, benchmark or sampling setup
# would silently mix. The number of samples and problems may grow between runs.
IDENTITY_KEYS = ("program_hash", "program", "benchmark", "split", "scorer", "model", "temperature", "seed")


def program_hash(config: ProgramSettings, program: dspy.Module | None = None) -> str:
    """The config's program fingerprint, extended by a compiled program's learned state."""
    if program is None:
        return config.fingerprint()
    state = json.dumps(program.dump_state(), sort_keys=True, default=str)
    return hashlib.sha1(f"{config.fingerprint()}:{state}".encode()).hexdigest()[:12]


def identity(config: ProgramSettings, phash: str) -> dict[str, str]:
    """The meta values a resumed harvest must share with the store."""
    values = {"program_hash": phash, "program": config.program, "benchmark": config.benchmark, "split": config.split,
              "scorer": config.scorer or "default", "model": config.model, "temperature": config.temperature,
              "seed": config.seed}
    return {k: str(values[k]) for k in IDENTITY_KEYS}


def default_harvest_dir(config: ProgramSettings, phash: str) -> Path:
    """runs/harvest-<program>-<task>-<split>-<hash of the identity>: the same harvest lands in the same place."""
    return default_dir(f"harvest-{config.program}-{task_slug(config.benchmark)}-{config.split}", identity(config, phash))


def check_dir(out: Path, wanted: dict[str, str] | None = None) -> None:
    """Refuse, touching nothing, a harvest dir that lock_dir would refuse: one holding other files, or a store
    strawberry did not create (another program's SQLite file, a corrupt one); with `wanted` (an identity), also a
    store of another setup."""
    check_claim(out, HARVEST_DIR)
    if (out / STORE_FILE).exists():
        TraceStore.created_here(out)
        if wanted is not None:
            check_identity(out, wanted)


def check_identity(out: Path, wanted: dict[str, str]) -> None:
    """A UserError when the store in `out` holds a harvest of another setup (checked read-only: it stays untouched)."""
    with TraceStore.open(out, readonly=True) as existing:
        stored = existing.meta()
    different = [k for k in IDENTITY_KEYS if stored.get(k) != wanted[k]]
    if different:
        diffs = "; ".join(f"{k} {stored.get(k)!r} there, {wanted[k]!r} now" for k in different)
        raise UserError(f"{out} holds a harvest of a different setup ({diffs}): pass --fresh to start over "
                        "or another --out")


def lock_dir(out: Path):
    """Claim the harvest dir (new, empty or a harvest's) and hold its lock (released by the OS even on SIGKILL).

    Checked first (check_dir): nothing is written into a directory that is refused.
    """
    check_dir(out)
    claim_dir(out, HARVEST_DIR)
    return lock_output(out, HARVEST_DIR, f"another harvest is writing {out}; wait for it to finish or pass another --out")


def remove_store(out: Path) -> None:
    """--fresh: delete the store and its WAL files (the harvest's own files; the rest of the directory stays).

    Only a store strawberry created (checked again here, under the lock): anything else is refused, untouched.
    """
    if (out / STORE_FILE).exists():
        TraceStore.created_here(out)
    remove_created(out, [f"{STORE_FILE}{suffix}" for suffix in ("", "-wal", "-shm")])


def open_store(out: Path, config: ProgramSettings, phash: str, samples: int) -> TraceStore:
    """Create the store, or reopen it when it holds the same harvest; anything else is a UserError, store untouched."""
    wanted = identity(config, phash)
    meta = {"config_json": json.dumps(config.to_dict(), sort_keys=True),
            "versions_json": json.dumps(package_versions(), sort_keys=True), "samples": str(samples)}
    if not (out / STORE_FILE).exists():
        return TraceStore.create(out, {**wanted, **meta})
    check_identity(out, wanted)
    with TraceStore.open(out, readonly=True) as existing:
        stored = existing.meta()
    samples = max(samples, int(stored.get("samples") or 0))
    store = TraceStore.open(out, readonly=False)
    store.set_meta({**meta, "samples": str(samples)})
    return store
