"""Dollars: prices with cache reads and writes, the recipe's override, and a store's cost with its cache writes."""

import json

import pytest

from strawberry_dspy.benchmarks import Problem
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.cost import Cost, Price, cost_of, describe, litellm_price, price_for, store_cost
from strawberry_dspy.harvest.stats import format_stats, harvest_stats
from strawberry_dspy.program.trace import Turn
from strawberry_dspy.store import TraceStore

PRICES = {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75}  # dollars per million tokens


def test_cache_reads_and_writes_at_their_own_prices():
    price = price_for("openai/my-model", "http://127.0.0.1:8000/v1", PRICES)
    assert price == Price(3e-6, 15e-6, 0.3e-6, 3.75e-6)
    cost = cost_of(price, prompt_tokens=1000, completion_tokens=100, cache_read=600, cache_write=300)
    assert cost.usd == pytest.approx(100 * 3e-6 + 600 * 0.3e-6 + 300 * 3.75e-6 + 100 * 15e-6)
    assert cost.uncached_usd == pytest.approx(1000 * 3e-6 + 100 * 15e-6)
    assert cost.saved_usd == pytest.approx(cost.uncached_usd - cost.usd) and cost.saved_usd > 0
    assert cost + cost == Cost(2 * cost.usd, 2 * cost.uncached_usd)
    assert "without the prompt cache" in cost.describe() and describe(None).startswith("unknown")
    assert price_for("openai/my-model", "http://127.0.0.1:8000/v1") is None  # a self-hosted model has no list price


def test_a_listed_model_behind_an_api_base_is_priced_from_litellms_table_and_prices_override():
    listed = litellm_price("anthropic/claude-haiku-4-5")
    assert price_for("anthropic/claude-haiku-4-5", "https://proxy.example/v1") == listed  # a proxy bills list prices
    assert listed == Price(1e-6, 5e-6, 0.1e-6, 1.25e-6)
    assert price_for("anthropic/claude-haiku-4-5", "https://proxy.example/v1", PRICES) == Price.of(
        3.0, 15.0, 0.3, 3.75, scale=1e6)
    assert price_for("local", None) is None and price_for("ollama_chat/llama3", "http://127.0.0.1:11434") is None
    assert Price.of(1.0, 2.0) == Price(1.0, 2.0, 1.0, 1.0)  # no cache prices: input's


def test_litellm_prices_anthropic_cache_writes_above_and_reads_below_input():
    price = litellm_price("anthropic/claude-haiku-4-5")
    assert price.cache_read == pytest.approx(price.input / 10) and price.cache_write == pytest.approx(price.input * 1.25)


def test_a_store_keeps_cache_writes_and_prices_them_from_its_recipe(tmp_path):
    config = config_from_dict({"model": "anthropic/claude-x", "api_base": "http://127.0.0.1:1/v1", "prices": PRICES})
    store = TraceStore.create(tmp_path, {"program": "strawberry", "benchmark": "jsonl:x", "model": config.model,
                                         "config_json": json.dumps(config.to_dict())})
    store.add_problems([Problem("p1", "What is 1 + 1?", "2")], "train")
    turns = [Turn("system", "system", "Be brief."),
             Turn("assistant", "step", "1 and 1", 100, 10, 0, 0.1, {"step": 1}, cache_write_tokens=100),
             Turn("assistant", "final", "<final_answer>2</final_answer>", 120, 5, 100, 0.1, {}, cache_write_tokens=20)]
    row = dict(problem_id="p1", sample=0, seed=1, correct=1, score=1.0, stop_reason="final_answer", steps=1,
               prompt_tokens=220, completion_tokens=15, cached_tokens=100, latency_s=0.2, model=config.model,
               program_hash="x")
    trace_id = store.write_trace(row, turns)
    assert [t.cache_write_tokens for t in store.turns(trace_id)] == [0, 100, 20]
    assert store.turns(trace_id)[1].meta == {"step": 1}  # the count is not left in the meta a reader sees
    assert store.cache_write_total() == 120
    cost = store_cost(store)
    assert cost == cost_of(price_for(config.model, prices=PRICES), 220, 15, 100, 120)
    text = format_stats(harvest_stats(store))
    for expected in ("cache writes       120", "cost per trace", "saved by cache", "without the prompt cache"):
        assert expected in text
    store.close()


def test_harvest_and_run_summaries_show_the_cost_and_what_the_cache_saved(tmp_path):
    from strawberry_dspy.cli.harvest import summary_table
    from strawberry_dspy.harvest import harvest
    from strawberry_dspy.run import run, summary_table as run_table
    from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic

    loop = {"max_turns": 6, "check_every": 3, "verifier_every": 0, "force_answer": False, "max_tokens": 10_000}
    with LoopbackAnthropic(reply="Let me add them one digit at a time.") as server:
        config = config_from_dict({"program": "strawberry", "model": "anthropic/claude-x", "api_base": server.url,
                                   "prices": PRICES, "limit": 2, "split": "train", "strawberry": loop})
        summary = harvest(config, tmp_path / "h", samples=2, progress=False)
        _, run_summary, results = run(config, tmp_path / "r", progress=False)
    with TraceStore.open(tmp_path / "h") as store:
        assert summary.cost == store_cost(store) and store.cache_write_total() > 0
    assert 0 < summary.cost.usd < summary.cost.uncached_usd
    assert "without the prompt cache" in summary_table(summary)
    assert 0 < run_summary["cost_usd"] < run_summary["uncached_cost_usd"]
    assert run_summary["cache_write_tokens"] == sum(t["cache_write_tokens"] for r in results for t in r.trace["turns"])
    assert "without the prompt cache" in run_table(run_summary, "run")


def test_run_behind_an_api_base_prices_a_listed_model_and_shows_cache_reads_and_writes(tmp_path, capsys):
    """`strawberry run --model anthropic/claude-haiku-4-5 --api-base URL` (a proxy): litellm's list price, not
    "cost unknown"; the table and summary.json carry cache reads and writes; `prices:` still overrides."""
    from strawberry_dspy.cli import main
    from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic

    loop = ["--strawberry.max_turns=6", "--strawberry.check_every=3", "--strawberry.force_answer=false",
            "--strawberry.verifier_every=0"]
    with LoopbackAnthropic(reply="Let me add them one digit at a time.") as server:
        base = ["run", "programs/strawberry.yaml", "--model", "anthropic/claude-haiku-4-5", "--api-base", server.url,
                "--limit", "2", *loop]
        assert main([*base, "--out", str(tmp_path / "listed")]) == 0
        listed = capsys.readouterr().out
        assert main([*base, "--prices.input=3", "--prices.output=15", "--out", str(tmp_path / "own")]) == 0
        capsys.readouterr()
    summary = json.loads((tmp_path / "listed" / "summary.json").read_text())
    assert summary["cached_tokens"] > 0 and summary["cache_write_tokens"] > 0
    price = litellm_price("claude-haiku-4-5")
    fresh = summary["prompt_tokens"] - summary["cached_tokens"] - summary["cache_write_tokens"]
    expected = (fresh * price.input + summary["cached_tokens"] * price.cache_read
                + summary["cache_write_tokens"] * price.cache_write + summary["completion_tokens"] * price.output)
    assert summary["cost_usd"] == pytest.approx(expected, abs=1e-6)
    row = next(line for line in listed.splitlines() if line.startswith("prompt tokens"))
    assert f"{summary['cached_tokens']} read, {summary['cache_write_tokens']} written to the cache" in row
    assert "unknown" not in next(line for line in listed.splitlines() if line.startswith("cost"))
    own = json.loads((tmp_path / "own" / "summary.json").read_text())
    assert own["prompt_tokens"] > 0  # the recipe's prices, whose cache prices default to input's
    assert own["cost_usd"] == pytest.approx((own["prompt_tokens"] * 3 + own["completion_tokens"] * 15) / 1e6, abs=1e-6)
