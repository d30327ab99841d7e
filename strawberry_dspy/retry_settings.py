"""The recipe's `retry:` section (read by models/retry.py), below config and models, in a module without dspy."""

from __future__ import annotations

import random
from dataclasses import dataclass

from strawberry_dspy.errors import UserError


@dataclass
class RetrySettings:
    """The recipe's `retry:` section: how long one request may take and how long a failing call is retried."""

    request_timeout_s: float = 120.0  # one request's timeout: a server silent this long counts as a failure
    budget_s: float = 300.0  # retry a failing call (or ride out an outage) for at most this long
    max_attempts: int = 100  # at most this many attempts per call (1 = never retry)
    backoff_base_s: float = 1.0  # first wait between attempts; doubles per attempt, with jitter
    backoff_cap_s: float = 10.0  # longest wait between attempts (a Retry-After asking for more is honoured)

    def validate(self) -> None:
        """Raise a UserError naming the first broken rule."""
        problems = [f"retry.{name} must be > 0, got {getattr(self, name)}"
                    for name in ("request_timeout_s", "backoff_base_s", "backoff_cap_s") if getattr(self, name) <= 0]
        if self.budget_s < 0:
            problems.append(f"retry.budget_s must be >= 0 (0 = never retry), got {self.budget_s}")
        if self.max_attempts < 1:
            problems.append(f"retry.max_attempts must be >= 1 (1 = never retry), got {self.max_attempts}")
        if self.backoff_cap_s < self.backoff_base_s:
            problems.append(f"retry.backoff_cap_s ({self.backoff_cap_s}) must be >= retry.backoff_base_s "
                            f"({self.backoff_base_s})")
        if problems:
            raise UserError(problems[0])

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based): exponential, capped, 'equal jitter'."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** min(attempt - 1, 30))
        return random.uniform(ceiling / 2, ceiling)
