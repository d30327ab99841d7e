"""Harvest: many seeded traces per problem into a resumable SQLite store, and "barely solvable" selection."""

from strawberry_dspy.harvest.harvester import HarvestSummary, harvest, sample_seed
from strawberry_dspy.harvest.selection import DEFAULT_BAND, in_band, pass_rates
from strawberry_dspy.harvest.store import STORE_FILE, ProblemRow, TraceRow, TraceStore

__all__ = ["DEFAULT_BAND", "HarvestSummary", "ProblemRow", "STORE_FILE", "TraceRow", "TraceStore", "harvest",
           "in_band", "pass_rates", "sample_seed"]
