"""Harvest: many seeded traces per problem into a resumable SQLite store, and "barely solvable" selection."""

from strawberry_dspy.harvest.harvester import HarvestSummary, harvest, sample_seed
from strawberry_dspy.harvest.options import HarvestOptions
from strawberry_dspy.harvest.selection import in_band, pass_rates

__all__ = ["HarvestOptions", "HarvestSummary", "harvest", "in_band", "pass_rates", "sample_seed"]
