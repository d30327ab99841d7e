"""The bootstrap loop: rounds of harvest -> band -> export -> train -> held-out eval on progressively harder problems."""

from strawberry_dspy.bootstrap.loop import BootstrapResult, bootstrap
from strawberry_dspy.bootstrap.settings import BootstrapSettings

__all__ = ["BootstrapResult", "BootstrapSettings", "bootstrap"]
