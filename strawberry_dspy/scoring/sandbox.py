"""Run an untrusted Python program (a model's answer) in a child process with a time limit, a memory limit and no network.

What isolates it, honestly:
- a fresh interpreter in isolated mode (`python -I`: no PYTHONPATH, no user site, not the current folder on the
  path), in an empty temporary folder that is removed afterwards, with an environment of PATH and HOME only (no API
  key of the parent's environment reaches it);
- resource limits it sets on itself before the program runs, soft and hard alike, so the program cannot raise them:
  address space (memory), CPU seconds, size of files written (its output too: stdout and stderr go to files),
  open files, processes (the last is not enforced for root), no core dumps; plus a wall-clock limit after which its
  whole process group is killed;
- no network: in a network namespace of its own (`unshare --net`, only a loopback that is down) where the machine
  allows it (root, or unprivileged user namespaces: `NETWORK` says which). Elsewhere only a guard inside the
  interpreter makes socket creation raise: it stops a program that uses `socket`, `urllib` or `http` the ordinary
  way, but not one that deliberately reaches `_socket` or ctypes. Filesystem access is not confined beyond the
  file-size limit: run untrusted code on a machine (or container) where reading its files is harmless.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

OUTPUT_TAIL = 2000  # characters of stdout / stderr kept in a result

# Runs in the child before the program: limits first, then the socket guard, then the program as __main__.
PRELUDE = r"""
import resource, sys
memory, seconds, file_bytes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, seconds), (resource.RLIMIT_FSIZE, file_bytes),
                     (resource.RLIMIT_NOFILE, 64), (resource.RLIMIT_NPROC, 32), (resource.RLIMIT_CORE, 0)):
    try:
        resource.setrlimit(limit, (value, value))
    except (ValueError, OSError):
        pass
import socket
class _NoNetwork(socket.socket):
    def __init__(self, family=-1, *args, **kwargs):
        if family in (-1, socket.AF_INET, socket.AF_INET6):
            raise PermissionError("network access is disabled for this program")
        super().__init__(family, *args, **kwargs)
def _refuse(*args, **kwargs):
    raise PermissionError("network access is disabled for this program")
socket.socket = socket.SocketType = _NoNetwork
socket.create_connection = socket.getaddrinfo = socket.gethostbyname = _refuse
path = sys.argv[4]
sys.argv = [path]
import runpy
runpy.run_path(path, run_name="__main__")
"""


@dataclass(frozen=True)
class Limits:
    """What a program may use."""

    seconds: float = 5.0  # CPU seconds; the wall-clock limit is twice this plus one second
    memory_mb: int = 512  # address space
    output_kb: int = 1024  # bytes it may write to any file, stdout and stderr included


@dataclass(frozen=True)
class RunResult:
    """How the program ended."""

    returncode: int | None  # None: killed at the wall-clock limit
    stdout: str  # the last OUTPUT_TAIL characters
    stderr: str
    timed_out: bool
    network: str  # "namespace" or "socket-guard": what kept it off the network

    @property
    def passed(self) -> bool:
        """Exited normally with status 0 within its limits."""
        return self.returncode == 0 and not self.timed_out


@lru_cache(maxsize=1)
def network_isolation() -> tuple[str, ...]:
    """The command prefix that gives a child its own network namespace here, or () where none can be made."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return ()
    for prefix in ((unshare, "--net"), (unshare, "--net", "--map-root-user")):
        try:
            if subprocess.run([*prefix, "true"], capture_output=True, timeout=10).returncode == 0:
                return prefix
        except (OSError, subprocess.SubprocessError):
            continue
    return ()


def run_python(source: str, limits: Limits = Limits()) -> RunResult:
    """Run `source` as a Python program under the limits; its exit status, output tails and isolation."""
    prefix = network_isolation()
    with tempfile.TemporaryDirectory(prefix="strawberry-sandbox-") as folder:
        work = Path(folder)
        program = work / "program.py"
        program.write_text(source, encoding="utf-8")
        out_path, err_path = work / "stdout.txt", work / "stderr.txt"
        command = [*prefix, sys.executable, "-I", "-c", PRELUDE, str(limits.memory_mb * 2 ** 20),
                   str(max(1, round(limits.seconds))), str(limits.output_kb * 1024), str(program)]
        env = {"PATH": os.defpath, "HOME": folder, "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            child = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                     start_new_session=True)
            timed_out = False
            try:
                child.wait(timeout=2 * limits.seconds + 1)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(child.pid)  # whatever it started in the background goes too
                child.wait()
        return RunResult(None if timed_out else child.returncode, _tail(out_path), _tail(err_path), timed_out,
                         "namespace" if prefix else "socket-guard")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path) -> str:
    with open(path, "rb") as file:
        file.seek(0, os.SEEK_END)
        file.seek(max(0, file.tell() - 4 * OUTPUT_TAIL))
        return file.read().decode("utf-8", "replace")[-OUTPUT_TAIL:]
