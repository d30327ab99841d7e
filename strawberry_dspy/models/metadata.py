"""DSPy's model-metadata lookup, memoized once per (provider, model) for the whole process.

`dspy.clients.model_metadata.model_info` scans its whole table (thousands of entries) for any model
it has no exact key for: the embedded engine's alias, every vLLM or custom model name. DSPy 3.4 asks
it about three times per LM call (`LM.supported_params` via `capabilities`, engine selection, and
`estimate_cost` after the reply); profiling put 55 % of a harvest's CPU there. The table is loaded
once and never changes afterwards, so the answer for a key never changes either: it is computed once.
The memo is installed into the two DSPy modules that imported the function by name.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from dspy.clients import capabilities, costs, model_metadata

_USERS = (capabilities, costs)  # the modules that call model_info by their own global name
_memo: dict[tuple, dict] = {}
_lock = threading.Lock()


def cached_model_info(provider: str, model: str, *, namespaces: Any = None) -> dict:
    """`model_info`, computed once per (provider, model, namespaces); callers get their own copy, as before."""
    key = (provider, model, None if namespaces is None else tuple(namespaces))
    found = _memo.get(key)
    if found is None:
        # looked up on the module at miss time, so the original (or anything wrapping it) does the scan
        found = model_metadata.model_info(provider, model, namespaces=namespaces)
        with _lock:
            _memo.setdefault(key, found)
    return copy.deepcopy(found)


def install() -> None:
    """Route DSPy's metadata lookups through the memo (idempotent)."""
    for module in _USERS:
        module.model_info = cached_model_info


def uninstall() -> None:
    """Restore DSPy's own per-call lookup (benchmarks compare both) and forget what was memoized."""
    for module in _USERS:
        module.model_info = model_metadata.model_info
    _memo.clear()


def installed() -> bool:
    """Whether DSPy's lookups currently go through the memo."""
    return all(module.model_info is cached_model_info for module in _USERS)
