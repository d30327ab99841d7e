import pytest

from strawberry_dspy.program.final_answer import parse_final_answer


@pytest.mark.parametrize("text, answer, status", [
    ("So <final_answer>42</final_answer>.", "42", "ok"),
    ("<FINAL_ANSWER> 7 </final_answer>", "7", "ok"),
    ("<final answer>3/4</final answer>", "3/4", "ok"),
    ("I think it is 42.", None, "missing"),
    ("", None, "missing"),
    (None, None, "missing"),
    ("<final_answer></final_answer>", None, "empty"),
    ("<final_answer>12", "12", "unclosed"),
    ("<final_answer>", None, "empty"),
    ("<final_answer>1</final_answer> no wait <final_answer>2</final_answer>", "2", "multiple"),
    ("<final_answer></final_answer><final_answer>5</final_answer>", "5", "multiple"),
    ("<final_answer>a\nb</final_answer>", "a\nb", "ok"),
])
def test_parse_final_answer(text, answer, status):
    parsed = parse_final_answer(text)
    assert (parsed.answer, parsed.status) == (answer, status)
    assert parsed.found == (answer is not None)
