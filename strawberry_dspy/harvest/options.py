"""What a harvest does besides the program's own config; each field is a flag of `strawberry harvest`."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry_dspy.band import DEFAULT_BAND, Band
from strawberry_dspy.config import check_temperature
from strawberry_dspy.errors import UserError
from strawberry_dspy.options import option

MAX_POLL_S = 3600  # --batch-poll-s: a batch ends within 24 h; polling it less than hourly only delays the harvest


@dataclass
class HarvestSettings:
    """How many traces per problem, at which temperature, which band, and how to treat a store already there."""

    samples: int = option(8, "traces per problem", aliases=("-k",), metavar="K")
    temperature: float | None = option(None, "sampling temperature", metavar="T", shown="the recipe's")
    band: Band = option(DEFAULT_BAND, "pass-rate band of the 'barely solvable' problems")
    early_stop: int = option(0, "stop sampling a problem whose first N samples agree and lie outside the band "
                                "(0 = off)", metavar="N")
    fresh: bool = option(False, "delete the directory's store and start over")
    keep_failed: bool = option(False, "keep the failed traces of earlier runs (by default a rerun samples them again)")
    progress: bool = option(True, "no progress bar")
    batch: bool = option(False, "send the traces' turns to the provider's batch API, one batch per turn of every "
                                "trace at once (openai/ and anthropic/ models: half the price, each batch within "
                                "24 h); a rerun re-attaches to the batch in flight")
    batch_poll_s: float = option(60.0, "with --batch: seconds between two polls of the batch in flight "
                                       f"(0 to {MAX_POLL_S})", metavar="S")

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        if not isinstance(self.samples, int) or self.samples < 1:
            raise UserError(f"--samples must be >= 1, got {self.samples}; e.g. --samples 8")
        if self.early_stop < 0:
            raise UserError(f"--early-stop must be >= 0 (0 = off), got {self.early_stop}; e.g. --early-stop 4")
        if not 0 <= self.batch_poll_s <= MAX_POLL_S:  # False for nan too
            raise UserError(f"--batch-poll-s must be a finite number of seconds in [0, {MAX_POLL_S}], got "
                            f"{self.batch_poll_s:g}; e.g. --batch-poll-s 60")
        check_temperature(self.temperature)
        self.band = Band.of(self.band)
