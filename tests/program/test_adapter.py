"""TextAdapter: chat turns in, free text out; baselines read <final_answer> tags."""

import dspy

from strawberry_dspy.program import ChainOfThought, ZeroShot
from strawberry_dspy.program.adapter import MAX_DEMOS, TextAdapter
from strawberry_dspy.program.signatures import AnswerSignature, StepSignature


def test_turn_signature_renders_the_chat_and_the_prompt():
    chat = [{"role": "system", "content": "S"}, {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}]
    messages = TextAdapter().format(StepSignature, [], {"conversation": chat, "prompt": "next?"})
    assert messages == chat + [{"role": "user", "content": "next?"}]


def test_turn_demos_are_capped_and_sit_after_the_system_prompt():
    chat = [{"role": "system", "content": "S"}]
    demos = [{"prompt": f"p{i}", "step": "x" * 5000} for i in range(10)]
    messages = TextAdapter().format(StepSignature, demos, {"conversation": chat, "prompt": "go"})
    assert messages[0]["content"] == "S" and messages[-1]["content"] == "go"
    assert len(messages) == 2 + 2 * MAX_DEMOS
    assert all(len(m["content"]) <= 400 for m in messages[1:-1])


def test_task_signature_asks_for_tags_and_parses_them():
    adapter = TextAdapter()
    messages = adapter.format(AnswerSignature, [], {"question": "2+2?"})
    assert "<final_answer>" in messages[0]["content"] and messages[-1] == {"role": "user", "content": "2+2?"}
    assert adapter.parse(AnswerSignature, "It is <final_answer>4</final_answer>")["answer"] == "4"
    untagged = adapter.parse(AnswerSignature, "It is four")
    assert untagged["answer"] == "It is four" and untagged["answer_status"] == "missing"


def test_baselines_return_a_one_turn_trace(use_lm):
    use_lm([{"answer": "4"}])
    out = ZeroShot()(question="2+2?")
    assert out.answer == "4" and out.trace.stop_reason == "final_answer"
    assert [t.kind for t in out.trace.turns] == ["system", "problem", "final"]  # the system prompt it sent, recorded
    use_lm([{"reasoning": "two and two", "answer": "4"}])
    out = ChainOfThought()(question="2+2?")
    assert out.answer == "4" and "two and two" in out.trace.turns[-1].content
