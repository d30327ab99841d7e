"""Scoring: extract what the model gave as its answer, then compare it with the gold answer."""

from strawberry_dspy.scoring.extract import Extraction, clean_answer, extract_answer, strip_answer_prefix
from strawberry_dspy.scoring.plugin import PluginScorer, is_plugin
from strawberry_dspy.scoring.numbers import cached_number, is_number, last_number, parse_number
from strawberry_dspy.scoring.scorers import (
    NO_ANSWER, NUMERIC_TOLERANCE, SCORER_NAMES, SCORERS, TASK_SCORER, Score, best_graded, check_scorer, exact,
    fallback_score, math_verify_score, numeric, scorer_named,
)

__all__ = [
    "NO_ANSWER", "NUMERIC_TOLERANCE", "SCORER_NAMES", "SCORERS", "TASK_SCORER", "Extraction", "PluginScorer",
    "Score", "best_graded", "cached_number", "check_scorer", "clean_answer", "exact", "extract_answer",
    "fallback_score", "is_number", "is_plugin", "last_number", "math_verify_score", "numeric", "parse_number",
    "scorer_named", "strip_answer_prefix",
]
