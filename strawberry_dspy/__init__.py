"""strawberry-dspy: open-strawberry as a declarative DSPy program.

Compile a multi-turn reasoning program against ground truth, run it on a benchmark,
harvest many traces, and export them for fine-tuning.
"""

from strawberry_dspy.models import offline  # noqa: F401  (first: no network look-ups at start-up)

from loguru import logger

logger.disable("strawberry_dspy")  # the library logs quietly; the CLI turns logging on

__version__ = "0.1.0"
