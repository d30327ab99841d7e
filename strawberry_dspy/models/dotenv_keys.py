"""`.env` in the working directory: its keys join the environment, its base URLs travel only with its own keys.

A cloned repository's `.env` may set `OPENAI_BASE_URL` to a host of its author's choosing. Loaded as it is, that
host would receive the key the user exported in the shell. So a base-URL variable read from `.env` never enters
the environment: `dotenv_server(provider)` hands it to the model spec together with the key from that same file,
and a file that sets a base URL without its key is refused (one line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from strawberry_dspy.errors import UserError

BASE_SUFFIXES = ("_BASE_URL", "_API_BASE")  # what litellm and the OpenAI client read as a provider's base URL


@dataclass
class DotEnv:
    """What ./.env held: its path, every value, and the base URLs it set that the shell does not."""

    path: Path | None = None
    values: dict[str, str] = field(default_factory=dict)
    bases: dict[str, str] = field(default_factory=dict)


def is_base_variable(name: str) -> bool:
    """Whether a variable names a provider's base URL (OPENAI_BASE_URL, OPENAI_API_BASE, AZURE_API_BASE, ...)."""
    return name.upper().endswith(BASE_SUFFIXES)


def load_dotenv() -> DotEnv:
    """Read ./.env: every variable the shell does not set joins the environment, except base URLs (kept aside)."""
    from dotenv import dotenv_values

    path = Path.cwd() / ".env"
    if not path.is_file():
        return DotEnv()
    try:
        values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path} ({exc}): fix or remove that .env file") from None
    dotenv = DotEnv(path, values)
    for name, value in values.items():
        if name in os.environ:
            continue  # the shell's value wins, as with python-dotenv's override=False
        if is_base_variable(name):
            dotenv.bases[name] = value
        else:
            os.environ[name] = value
    return dotenv


def dotenv_server(provider: str, key_variable: str | None) -> tuple[str, str] | None:
    """(base URL, key) when ./.env sets `provider`'s base URL, the key read from the same file; else None."""
    dotenv = load_dotenv()
    prefix = provider.upper()
    found = [(n, v) for n, v in dotenv.bases.items() if n.upper() in (prefix + s for s in BASE_SUFFIXES)]
    if not found:
        return None
    name, base = found[0]
    key = dotenv.values.get(key_variable or "")
    if not key:
        raise UserError(f"{dotenv.path} sets {name}={base!r} but not {key_variable}: a base URL read from a .env file "
                        f"is used only with a key from that same file, never with one from the shell; add "
                        f"{key_variable}=... to {dotenv.path}, or remove {name} from it")
    return base, key


def host_of(url: str) -> str:
    """The host[:port] a URL points at (the URL itself when it has none)."""
    return urlsplit(url).netloc or url
