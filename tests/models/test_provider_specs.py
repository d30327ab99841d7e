"""The docs' example spec of each hosted provider (docs/models.md) builds offline, gets a route from DSPy and a price from litellm.

No provider is reached: the keys are placeholders and nothing is called. What this guards is that the examples stay
names the bundled tables know (a renamed or decommissioned model would lose its route or its price here first).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dspy.clients.backend_selection import select_backend

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.cost import config_price, litellm_price
from strawberry_dspy.models import lm_for

README = (Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text()  # where the examples are shown
PRICED = ["anthropic/claude-haiku-4-5", "openai/gpt-4o-mini", "gemini/gemini-2.5-flash", "groq/openai/gpt-oss-120b",
          "cerebras/gpt-oss-120b"]
KEYS = {"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k", "GEMINI_API_KEY": "k", "GROQ_API_KEY": "k",
        "CEREBRAS_API_KEY": "k", "AZURE_API_KEY": "k", "AZURE_API_BASE": "https://example.openai.azure.com",
        "AZURE_API_VERSION": "2024-10-21"}


@pytest.fixture
def keys(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("spec", PRICED)
def test_each_example_builds_routes_and_is_priced(keys, spec):
    assert f"`{spec}`" in README
    lm = lm_for(config_from_dict({"model": spec}))
    route = select_backend(lm)  # offline: DSPy's choice of engine for this spec (raises for a spec it cannot route)
    if spec.startswith("anthropic/"):
        assert route.native and lm.kwargs["prompt_cache"].prefix == "history"  # the marks need DSPy's native engine
    price = litellm_price(spec)
    assert price is not None and price.input > 0 and price.output > 0


def test_an_azure_deployment_routes_and_takes_its_price_from_the_recipe(keys):
    assert "`azure/DEPLOYMENT`" in README
    config = config_from_dict({"model": "azure/my-deployment", "prices": {"input": 0.15, "output": 0.6}})
    lm = lm_for(config)
    assert select_backend(lm).resolution.provider.startswith("azure")
    assert "prompt_cache" not in lm.kwargs and litellm_price("azure/my-deployment") is None
    assert config_price(config.to_dict()).output == pytest.approx(0.6e-6)


def test_prompt_cache_on_where_dspy_goes_through_litellm_is_one_clear_error(keys):
    with pytest.raises(UserError, match="prompt_cache: on needs DSPy's native engine, which 'cerebras/gpt-oss-120b'"):
        lm_for(config_from_dict({"model": "cerebras/gpt-oss-120b", "prompt_cache": "on"}))
