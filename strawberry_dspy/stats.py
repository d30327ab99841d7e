"""Statistics of held-out evaluations: intervals, paired comparisons and the smallest detectable difference.

An evaluation is K seeded samples per problem; its unit is the problem (samples of one problem are not
independent), so every interval here is over per-problem pass rates. Two evaluations are compared on the
problems both saw, by the per-problem difference of pass rates:

    d_i = rate_B(i) - rate_A(i);   mean d ± t·sd(d)/√n  (95 %);   p from a paired sign-flip permutation test
    smallest detectable difference (80 % power, two-sided 5 %) ≈ (z_0.975 + z_0.8) · sd(d)/√n

With one sample per problem and no ties this reduces to McNemar's comparison, which is kept for that case.
Nothing here imports from the rest of the package: every part that reports accuracy uses it.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)
Z80 = NormalDist().inv_cdf(0.80)
PERMUTATIONS = 20_000  # sign flips drawn for the paired test when 2^n is larger


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mcnemar_p(only_before: int, only_after: int) -> float:
    """Exact two-sided McNemar p-value: are the problems only one model solves split evenly?"""
    n, k = only_before + only_after, min(only_before, only_after)
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2**n) if n else 1.0


def t_quantile(df: int, q: float = 0.975) -> float:
    """Student's t quantile (a Cornish-Fisher expansion: 0.8 % low at df 2, within 0.1 % from df 5; df 1 exact)."""
    if df < 1:
        return math.inf
    if df == 1:
        return math.tan(math.pi * (q - 0.5))
    z = NormalDist().inv_cdf(q)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def _mean_sd(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(var)


@dataclass(frozen=True)
class Accuracy:
    """Mean accuracy over problems (each problem's pass rate over its samples) with its 95% interval."""

    problems: int
    samples: int  # traces in all
    correct: int  # correct traces in all
    mean: float
    low: float
    high: float

    def cell(self) -> str:
        """'21.3% [17.0, 25.9] (n=300 x 4)'."""
        per = self.samples / self.problems if self.problems else 0
        shape = f"n={self.problems}" + (f" x {per:g}" if per != 1 else "")
        return f"{self.mean:.1%} [{self.low:.1%}, {self.high:.1%}] ({shape})"


def accuracy(rates: list[float], samples: list[int] | None = None) -> Accuracy:
    """Mean of per-problem pass rates with a 95% interval: Wilson for one sample each, else a t-interval over problems."""
    n = len(rates)
    samples = samples or [1] * n
    total = sum(samples)
    correct = round(sum(r * k for r, k in zip(rates, samples)))
    if n == 0:
        return Accuracy(0, 0, 0, 0.0, 0.0, 1.0)
    if all(k == 1 for k in samples):
        low, high = wilson(correct, n)
        return Accuracy(n, total, correct, correct / n, low, high)
    mean, sd = _mean_sd(rates)
    half = t_quantile(n - 1) * sd / math.sqrt(n) if n > 1 else 1.0
    return Accuracy(n, total, correct, mean, max(0.0, mean - half), min(1.0, mean + half))


@dataclass(frozen=True)
class Paired:
    """B minus A on the problems both saw: mean difference, its 95% interval, p, and what could be detected."""

    problems: int
    a: float  # A's mean accuracy on the shared problems
    b: float
    diff: float
    low: float
    high: float
    p: float  # two-sided, paired sign-flip permutation test (exact when 2^n is small)
    detectable: float  # smallest |difference| this comparison detects with 80 % power at the 5 % level
    only_a: int  # problems A solves more often than B
    only_b: int

    def cell(self) -> str:
        """'+3.2 pts [-1.0, +7.4], p=0.14, detectable ±5.9'."""
        if not self.only_a and not self.only_b:
            return f"+0.0 pts: the same pass rate on all {self.problems} problems"
        return (f"{self.diff * 100:+.1f} pts [{self.low * 100:+.1f}, {self.high * 100:+.1f}], p={self.p:.3g}, "
                f"detectable ±{self.detectable * 100:.1f}")

    def to_dict(self) -> dict:
        return asdict(self)


def sign_flip_p(diffs: list[float], seed: int = 0, draws: int = PERMUTATIONS) -> float:
    """Two-sided p of the mean of paired differences under random sign flips (exact for up to 16 non-zero ones)."""
    values = [d for d in diffs if d != 0]
    if not values:
        return 1.0
    observed = abs(sum(values)) - 1e-12
    if len(values) <= 16:
        hits = sum(abs(sum(v if mask >> i & 1 else -v for i, v in enumerate(values))) >= observed
                   for mask in range(2 ** len(values)))
        return hits / 2 ** len(values)
    rng = random.Random(seed)
    hits = sum(abs(sum(v if rng.random() < 0.5 else -v for v in values)) >= observed for _ in range(draws))
    return (hits + 1) / (draws + 1)


def paired(rates_a: dict[str, float], rates_b: dict[str, float]) -> Paired:
    """Compare two evaluations on their shared problems (keys: problem ids, values: pass rates)."""
    shared = [pid for pid in rates_a if pid in rates_b]
    n = len(shared)
    if n == 0:
        return Paired(0, 0.0, 0.0, 0.0, -1.0, 1.0, 1.0, 1.0, 0, 0)
    diffs = [rates_b[pid] - rates_a[pid] for pid in shared]
    mean, sd = _mean_sd(diffs)
    se = sd / math.sqrt(n)
    half = t_quantile(n - 1) * se if n > 1 else 1.0
    if sd == 0:  # every problem moved by the same amount: no spread to estimate noise from
        half = 0.0
    a = sum(rates_a[pid] for pid in shared) / n
    b = sum(rates_b[pid] for pid in shared) / n
    return Paired(n, a, b, mean, max(-1.0, mean - half), min(1.0, mean + half), sign_flip_p(diffs),
                  (Z95 + Z80) * se, sum(d < 0 for d in diffs), sum(d > 0 for d in diffs))


def pass_rates(rows: list[dict], key: str = "problem_id") -> tuple[dict[str, float], dict[str, int]]:
    """Per-problem pass rate and sample count from result rows holding `problem_id` and `correct`."""
    hits: dict[str, int] = {}
    counts: dict[str, int] = {}
    for row in rows:
        pid = row[key]
        counts[pid] = counts.get(pid, 0) + 1
        hits[pid] = hits.get(pid, 0) + bool(row["correct"])
    return {pid: hits[pid] / counts[pid] for pid in counts}, counts


def accuracy_of_rows(rows: list[dict]) -> Accuracy:
    """The Accuracy of result rows (one per trace)."""
    rates, counts = pass_rates(rows)
    return accuracy(list(rates.values()), [counts[pid] for pid in rates])
