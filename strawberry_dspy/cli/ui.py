"""Watch a program reason turn by turn, browse harvests and compare runs in the browser (a local Streamlit app)."""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import secrets
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
    parser.add_argument("--allow-remote", action="store_true",
                        help="serve on a --host beyond this machine; the page then asks for an access token, printed "
                             "with the URL")


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str]:
    """Host headers the app's WebSocket accepts (a DNS-rebinding page arrives under its own name: refused)."""
    if is_loopback(host):
        return ["127.0.0.1", "localhost", "::1"]
    return ["*"] if host in ("0.0.0.0", "::") else [host, "127.0.0.1", "localhost"]  # the token guards the rest


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
    """The `streamlit run` command line for the app: its address, the Host names it accepts, CORS and XSRF on."""
    app = Path(__file__).resolve().parent.parent / "ui" / "app.py"
    hosts = [f"--server.allowedHosts={h}" for h in allowed_hosts(host)]
    return [sys.executable, "-m", "streamlit", "run", str(app), f"--server.address={host}", f"--server.port={port}",
            *hosts, "--server.enableCORS=true", "--server.enableXsrfProtection=true", *STREAMLIT_FLAGS]


def main(args: argparse.Namespace) -> int:
    if args.overrides:
        raise UserError(f"ui takes no --key=value overrides, got {' '.join(args.overrides)}")
    if importlib.util.find_spec("streamlit") is None:
        raise UserError(f"the UI needs Streamlit, which is not installed: {INSTALL}")
    from strawberry_dspy.ui.access import TOKEN_ENV
    from strawberry_dspy.ui.dirs import ENV, find

    found = find(args.dirs, strict=True)
    for harvest in found.harvests:  # a corrupt or foreign store is refused now, not shown as an error page later
        TraceStore.open(harvest).close()
    remote = not is_loopback(args.host)
    if remote and not args.allow_remote:
        raise UserError(f"--host {args.host} serves the UI beyond this machine: pass --allow-remote as well (the page "
                        "then asks for an access token, printed with the URL), or leave --host out for 127.0.0.1")
    check_port(args.host, args.port)
    env = {**os.environ, ENV: os.pathsep.join(str(Path(d).resolve()) for d in args.dirs),
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop(TOKEN_ENV, None)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{args.port}"
    if remote:
        env[TOKEN_ENV] = secrets.token_urlsafe(24)
        url += f"/?token={env[TOKEN_ENV]}"
        print(f"strawberry ui: serving beyond this machine on {args.host}: anyone who can reach it needs the token "
              "in this URL", file=sys.stderr, flush=True)
    print(f"strawberry ui: {url}  ({len(found.harvests)} harvests, {len(found.runs)} runs; "
          "Ctrl-C stops it)", flush=True)
    command = streamlit_command(args.host, args.port)
    os.execve(command[0], command, env)  # Streamlit takes over this process: Ctrl-C and signals reach it directly
