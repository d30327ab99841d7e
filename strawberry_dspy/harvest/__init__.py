"""Harvest: many seeded traces per problem into a resumable SQLite store, and "barely solvable" selection.

The names load on first use: `strawberry stats` reads a store without importing dspy.
"""

from strawberry_dspy.lazy import lazy_exports

_EXPORTS = {"HarvestSummary": "harvester", "harvest": "harvester", "sample_seed": "harvester",
            "HarvestSettings": "options", "in_band": "selection", "pass_rates": "selection"}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
