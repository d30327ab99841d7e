"""Reasoning programs: the strawberry turn loop and the baselines, built by name.

The names load on first use: the store imports `program.trace` and must not import dspy with it.
"""

from strawberry_dspy.knobs import StrawberrySettings  # noqa: F401  (its home is below config: strawberry_dspy/knobs.py)
from strawberry_dspy.lazy import lazy_exports

_EXPORTS = {"ChainOfThought": "baselines", "ZeroShot": "baselines", "FinalAnswer": "final_answer",
            "parse_final_answer": "final_answer", "StrawberryProgram": "strawberry",
            "Trace": "trace", "Turn": "trace"}
__all__ = sorted([*_EXPORTS, "StrawberrySettings"])
__getattr__ = lazy_exports(__name__, _EXPORTS)
