"""Dollars per turn, trace, run and harvest: prices per token from litellm's bundled map (offline) or the recipe's
`prices:`, with cache reads and cache writes at their own prices, and what the same tokens cost without a cache.

The one home of pricing: stats, the harvest and run summaries and `eval/providers/providers.py` all call `price_for` and
`cost_of`. Token counts follow DSPy's usage: prompt tokens include the cache reads and the cache writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

LOCAL_PREFIXES = ("local", "hf:", "ollama/", "ollama_chat/")
PER_MILLION = 1e6
# OpenAI's and Anthropic's batch APIs bill every token (cache reads and writes included) at half the live price:
# a `--batch` harvest is priced at the price table's figures times this factor
BATCH_PRICE_FACTOR = 0.5


@dataclass(frozen=True)
class Price:
    """Dollars per token: uncached input, output, cache read and cache write (input's price where a model has none)."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    @classmethod
    def of(cls, input: float, output: float, cache_read: float | None = None, cache_write: float | None = None,
           scale: float = 1.0) -> Price:
        """A price from per-token (scale 1) or per-million (scale 1e6) figures; a missing cache price is input's."""
        read = input if cache_read is None else cache_read
        write = input if cache_write is None else cache_write
        return cls(input / scale, output / scale, read / scale, write / scale)

    def scaled(self, factor: float) -> Price:
        """Every figure times `factor` (BATCH_PRICE_FACTOR: the batch price)."""
        return Price(self.input * factor, self.output * factor, self.cache_read * factor, self.cache_write * factor)


@dataclass(frozen=True)
class Cost:
    """What tokens cost with the cache as used, and what the same tokens would have cost with no cache at all."""

    usd: float
    uncached_usd: float

    @property
    def saved_usd(self) -> float:
        """Dollars the cache saved (negative when cache writes were never read back)."""
        return self.uncached_usd - self.usd

    @property
    def factor(self) -> float | None:
        """uncached / cached cost (how many times cheaper the cache made it), None for a free run."""
        return self.uncached_usd / self.usd if self.usd else None

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.usd + other.usd, self.uncached_usd + other.uncached_usd)

    def describe(self) -> str:
        """'$0.0123 ($0.0456 without the prompt cache: 3.7x)' for summaries."""
        if abs(self.saved_usd) < 5e-7:
            return f"${self.usd:.4f}"
        factor = f": {self.factor:.1f}x" if self.factor and self.saved_usd > 0 else ""
        return f"${self.usd:.4f}  (${self.uncached_usd:.4f} without the prompt cache{factor})"


def litellm_price(model: str, api_base: str | None = None) -> Price | None:
    """litellm's price of a model spec, or None (served on this machine, or not in the map).

    The model's name decides, whether or not an `api_base` serves it: a proxy or gateway in front of
    `anthropic/claude-haiku-4-5` bills that model's list price, and a self-hosted model's name (`openai/my-model`)
    is not in the map. A recipe's `prices:` overrides it either way (`price_for`).
    """
    del api_base  # kept in the signature: callers pass it, and it no longer hides a known price
    if model.startswith(LOCAL_PREFIXES):
        return None
    import litellm  # imported here: a second of start-up that only the cost lines need

    _, _, name = model.partition("/")
    for key in (model, name):
        entry = litellm.model_cost.get(key) if key else None
        if entry and entry.get("input_cost_per_token") is not None and entry.get("output_cost_per_token") is not None:
            return Price.of(entry["input_cost_per_token"], entry["output_cost_per_token"],
                            entry.get("cache_read_input_token_cost"), entry.get("cache_creation_input_token_cost"))
    return None


def price_for(model: str, api_base: str | None = None, prices: dict | None = None) -> Price | None:
    """The recipe's `prices:` (dollars per million tokens) when given, else litellm's; None when neither knows."""
    if prices:
        return Price.of(prices["input"], prices["output"], prices.get("cache_read"), prices.get("cache_write"),
                        scale=PER_MILLION)
    return litellm_price(model, api_base)


def config_price(config: dict) -> Price | None:
    """The price of a resolved config (a ProgramSettings's dict, e.g. the store's config_json)."""
    return price_for(config.get("model", "local"), config.get("api_base"), config.get("prices"))


def cost_of(price: Price | None, prompt_tokens: int, completion_tokens: int, cache_read: int = 0,
            cache_write: int = 0) -> Cost | None:
    """The cost of these tokens (prompt_tokens includes cache_read and cache_write), None without a price."""
    if price is None:
        return None
    fresh = max(prompt_tokens - cache_read - cache_write, 0)
    output = completion_tokens * price.output
    return Cost(fresh * price.input + cache_read * price.cache_read + cache_write * price.cache_write + output,
                prompt_tokens * price.input + output)


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0,
             api_base: str | None = None) -> float | None:
    """Dollars for these tokens at litellm's list price (cached prompt tokens at the cache-read price), or None."""
    cost = cost_of(litellm_price(model, api_base), prompt_tokens, completion_tokens, cached_tokens)
    return None if cost is None else cost.usd


def describe(cost: Cost | None, model: str = "") -> str:
    """A summary's cost cell: the cost and what it would have been without the cache, or why it is unknown."""
    if cost:
        return cost.describe()
    if model.startswith(LOCAL_PREFIXES):
        return "none (served on this machine; set prices: in the recipe to count it)"
    return "unknown (litellm's price table does not list this model: set prices: in the recipe)"


def store_cost(store, cache_write: int | None = None) -> Cost | None:
    """The cost of every trace of a harvest store, at the price of the config it was harvested with.

    cache_write: the store's `cache_write_total()` when the caller has it (it reads every turn).
    """
    config = json.loads(store.meta().get("config_json") or "{}")
    prompt, cached, completion = store.token_totals()
    return cost_of(config_price(config or {"model": store.meta().get("model", "local")}), prompt, completion, cached,
                   store.cache_write_total() if cache_write is None else cache_write)
