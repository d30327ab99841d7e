"""Watch a program reason turn by turn, browse harvests and compare runs in the browser (a local Streamlit app)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import sys
from pathlib import Path

from strawberry_dspy.errors import UserError
from strawberry_dspy.store import TraceStore

INSTALL = "pip install 'strawberry-dspy[ui]'"
# offline: no usage statistics, no browser opened, no file watcher; the fonts and scripts ship inside streamlit
STREAMLIT_FLAGS = ["--browser.gatherUsageStats=false", "--server.headless=true", "--server.fileWatcherType=none",
                   "--server.runOnSave=false", "--global.developmentMode=false", "--client.toolbarMode=minimal"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dirs", nargs="*", metavar="DIR",
                        help="harvest directories (traces.sqlite), run directories (results.jsonl), or folders of them")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8501, help="port to serve on (default: 8501)")


def check_port(host: str, port: int) -> None:
    """A UserError when the address cannot be served on (port taken, bad host)."""
    if not 0 < port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {port}")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            # as the server will: a port whose last server just exited (TIME_WAIT) is free, a listening one is not
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise UserError(f"cannot serve on {host}:{port} ({exc.strerror}): pass another --port or --host") from None


def streamlit_command(host: str, port: int) -> list[str]:
    """The `streamlit run` command line for the app."""
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    return [sys.executable, "-m", "streamlit", "run", str(app), f"--server.address={host}", f"--server.port={port}",
            *STREAMLIT_FLAGS]


def main(args: argparse.Namespace) -> int:
    if args.overrides:
        raise UserError(f"ui takes no --key=value overrides, got {' '.join(args.overrides)}")
    if importlib.util.find_spec("streamlit") is None:
        raise UserError(f"the UI needs Streamlit, which is not installed: {INSTALL}")
    from strawberry_dspy.ui.dirs import ENV, find

    found = find(args.dirs, strict=True)
    for harvest in found.harvests:  # a corrupt or foreign store is refused now, not shown as an error page later
        TraceStore.open(harvest).close()
    check_port(args.host, args.port)
    env = {**os.environ, ENV: os.pathsep.join(str(Path(d).resolve()) for d in args.dirs),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"strawberry ui: http://{shown}:{args.port}  ({len(found.harvests)} harvests, {len(found.runs)} runs; "
          "Ctrl-C stops it)", flush=True)
    command = streamlit_command(args.host, args.port)
    os.execve(command[0], command, env)  # Streamlit takes over this process: Ctrl-C and signals reach it directly
