"""A reasoning model's thinking is kept per turn: OpenAI-compatible `reasoning_content`, inline `<think>` blocks and
Anthropic thinking blocks, each from a loopback server speaking that wire format; stored, counted, shown folded,
never sent back in the chat, and exported only when asked."""

import json
import re

import pytest

from strawberry_dspy.cli import main as cli_main
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.harvest import harvest
from strawberry_dspy.program.thinking import split_thinking
from strawberry_dspy.store import TraceStore
from tests.harvest.scripted import write_problems
from strawberry_dspy.testing.loopback_anthropic import LoopbackAnthropic
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

THOUGHT = "The user wants a sum. Adding the ones digits first gives the answer."
def right(body: dict) -> str:
    """The right answer to the problem in the request: every trace is correct, so SFT exports it."""
    a, b = re.findall(r"What is (\d+) \+ (\d+)", json.dumps(body["messages"]))[-1]
    return f"<final_answer>{int(a) + int(b)}</final_answer>"


LOOP = {"check_every": 1, "verifier_every": 0, "max_turns": 2, "force_answer": False}


def config(server, problems, program="strawberry", model="openai/stub-model", **extra):
    return config_from_dict({"program": program, "model": model, "api_base": server.url,
                             "benchmark": f"jsonl:{problems}", "split": "train", "limit": 2, "concurrency": 1,
                             **({"strawberry": LOOP} if program == "strawberry" else {}), **extra})


@pytest.fixture
def problems(tmp_path):
    return write_problems(tmp_path / "problems.jsonl", 20)


def assistant_turns(out) -> list:
    with TraceStore.open(out) as store:
        return [t for row in store.traces() for t in store.turns(row.id) if t.role == "assistant"]


def test_split_thinking_reads_inline_think_blocks():
    assert split_thinking("<think>\nfirst\n</think>\n\nThe answer is 4.") == ("first", "The answer is 4.")
    assert split_thinking("no thinking here") == ("", "no thinking here")
    assert split_thinking("<think>cut off while thinking") == ("cut off while thinking", "")
    assert split_thinking("<THINK>a</THINK>b<think>c</think>d") == ("a\n\nc", "bd")


def test_openai_reasoning_content_is_kept_counted_and_not_sent_back(problems, tmp_path, capsys):
    with LoopbackOpenAI(right, reasoning=THOUGHT) as server:
        harvest(config(server, problems), tmp_path / "h", samples=1, progress=False)
        sent = json.dumps([seen.body for seen in server.completions()])
    turns = assistant_turns(tmp_path / "h")
    assert turns and all(t.thinking == THOUGHT for t in turns)
    assert all(t.reasoning_tokens == len(THOUGHT.split()) and t.completion_tokens > t.reasoning_tokens for t in turns)
    assert THOUGHT not in sent  # the chat carries the replies alone
    assert cli_main(["stats", str(tmp_path / "h"), "--plot", str(tmp_path / "p.png")]) == 0
    out = capsys.readouterr().out
    assert f"kept for {len(turns)} turns, {len(turns) * len(THOUGHT.split())} of the completion tokens" in out

    def export(*extra):
        dest = tmp_path / f"e{len(extra)}"
        assert cli_main(["export", str(tmp_path / "h"), "--format", "sft", "--band", "0", "1", "--style", "turns",
                         "--out", str(dest), *extra]) == 0
        capsys.readouterr()
        return [json.loads(line) for line in (dest / "train.jsonl").read_text().splitlines()], (dest / "README.md")

    plain, _ = export()  # off by default
    assert plain and THOUGHT not in json.dumps(plain)
    rows, card = export("--thinking", "reasoning_content")
    assistants = [m for row in rows for m in row["completion"] if m["role"] == "assistant"]
    assert assistants and all(m["reasoning_content"] == THOUGHT for m in assistants)
    assert all("reasoning_content" not in m for row in rows for m in row["completion"] if m["role"] != "assistant")
    assert "in each assistant message as `reasoning_content`" in card.read_text()
    flat, _ = export("--thinking", "thinking", "--style", "flat")
    (message,) = flat[0]["completion"]
    assert message["thinking"] == "\n\n".join([THOUGHT] * message["thinking"].count(THOUGHT)) and THOUGHT in message["thinking"]


def test_inline_think_blocks_of_open_models_are_split_from_the_reply(problems, tmp_path):
    reply = "<think>\nLet me add: the sum is 4.\n</think>\n<final_answer>4</final_answer>"
    with LoopbackOpenAI(reply) as server:
        harvest(config(server, problems), tmp_path / "h", samples=1, progress=False)
        sent = json.dumps([seen.body for seen in server.completions()])
    turns = assistant_turns(tmp_path / "h")
    assert turns and all(t.thinking == "Let me add: the sum is 4." for t in turns)
    assert all("<think>" not in t.content and t.content == "<final_answer>4</final_answer>" for t in turns)
    assert "Let me add: the sum is 4." not in sent


def test_a_baseline_keeps_the_thinking_of_its_one_call(problems, tmp_path):
    from strawberry_dspy.run import run

    with LoopbackOpenAI("So the answer is clear.\n<final_answer>4</final_answer>", reasoning=THOUGHT) as server:
        _, _, results = run(config(server, problems, program="cot"), tmp_path / "r", progress=False)
    finals = [t for r in results for t in r.trace["turns"] if t["role"] == "assistant"]
    assert finals and all(t["thinking"] == THOUGHT and t["reasoning_tokens"] > 0 for t in finals)


def test_anthropic_thinking_blocks_are_kept(problems, tmp_path):
    with LoopbackAnthropic(reply="<final_answer>4</final_answer>", thinking=THOUGHT) as server:
        harvest(config(server, problems, model="anthropic/claude-x"), tmp_path / "h", samples=1, progress=False)
        sent = json.dumps([seen.body for seen in server.messages()])
    turns = assistant_turns(tmp_path / "h")
    assert turns and all(t.thinking == THOUGHT for t in turns)
    assert THOUGHT not in sent


def test_the_harvest_browser_shows_thinking_folded(problems, tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from strawberry_dspy.ui import dirs

    with LoopbackOpenAI("<final_answer>4</final_answer>", reasoning=THOUGHT) as server:
        harvest(config(server, problems), tmp_path / "h", samples=1, progress=False)
    monkeypatch.setenv(dirs.ENV, str(tmp_path / "h"))

    def page():
        from strawberry_dspy.ui import harvest as harvest_page

        harvest_page.render()

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    folded = [e for e in at.expander if e.label.startswith("thinking (")]
    assert folded and all(e.label == f"thinking ({len(THOUGHT.split())} words)" for e in folded)
    assert THOUGHT in [t.value for t in at.text]


def test_thinking_is_bounded_by_max_reply_chars_like_the_reply(problems, tmp_path):
    with LoopbackOpenAI(right, reasoning="I think. " * 2000) as server:
        harvest(config(server, problems, max_reply_chars=1000), tmp_path / "h", samples=1, progress=False)
    turns = assistant_turns(tmp_path / "h")
    assert turns and all(0 < len(t.thinking) <= 1000 for t in turns)


def test_a_long_inline_think_block_does_not_use_up_the_replys_bound(problems, tmp_path):
    reply = "<think>" + "Hmm, let me see. " * 200 + "</think>\n<final_answer>4</final_answer>"
    with LoopbackOpenAI(reply) as server:
        harvest(config(server, problems, max_reply_chars=1000), tmp_path / "h", samples=1, progress=False)
    turns = assistant_turns(tmp_path / "h")
    assert turns and all(t.content == "<final_answer>4</final_answer>" and 0 < len(t.thinking) <= 1000 for t in turns)
