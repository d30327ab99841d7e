"""Export harvested traces for fine-tuning: SFT, step-weighted DPO, KTO and stepwise datasets in TRL's formats."""

from strawberry_dspy.export.config import ExportSettings
from strawberry_dspy.export.pipeline import ExportReport, export

__all__ = ["ExportSettings", "ExportReport", "export"]
