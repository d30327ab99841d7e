"""Prices per token from litellm's bundled cost map (offline); local models have no known price."""

from __future__ import annotations

LOCAL_PREFIXES = ("local", "ollama/", "ollama_chat/")


def price_of(model: str, api_base: str | None = None) -> dict | None:
    """litellm's price entry for a model spec, or None (local, self-hosted, or not in the map)."""
    if model == "local" or model.startswith(LOCAL_PREFIXES) or api_base:
        return None
    import litellm  # imported here: a second of start-up that only the cost line needs

    provider, _, name = model.partition("/")
    for key in (model, name):
        entry = litellm.model_cost.get(key) if key else None
        if entry and entry.get("input_cost_per_token") is not None and entry.get("output_cost_per_token") is not None:
            return entry
    return None


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0,
             api_base: str | None = None) -> float | None:
    """The cost of the tokens at list price (cached prompt tokens at the cache-read price where one is known)."""
    price = price_of(model, api_base)
    if price is None:
        return None
    cached_price = price.get("cache_read_input_token_cost")
    if cached_price is None:
        cached_price = price["input_cost_per_token"]
    return ((prompt_tokens - cached_tokens) * price["input_cost_per_token"] + cached_tokens * cached_price
            + completion_tokens * price["output_cost_per_token"])
