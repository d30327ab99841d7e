"""compiled.json: DSPy's save() plus metadata; save -> load gives identical prompts and knobs."""

import json

import dspy
import pytest

from strawberry_dspy.compile.compiled import base_program_record, load_compiled, save_compiled
from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.adapter import TextAdapter
from strawberry_dspy.program.build import build_program
from strawberry_dspy.program_file import load_program_file

RECIPE = "program: strawberry\nstrawberry:\n  check_every: 2\n  max_turns: 6\n"


def compiled_file(tmp_path, program="strawberry"):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(RECIPE if program == "strawberry" else f"program: {program}\n")
    config = config_from_dict({"program": program, "split": "test", "limit": 3,
                               **({"strawberry": {"check_every": 3, "nudges": ["Go on."], "nudge_probability": 0.5,
                                                  "check_prefill": "<final_answer>"}} if program == "strawberry" else {})})
    program_module = build_program(config)
    for i, (name, predictor) in enumerate(program_module.named_predictors()):
        predictor.signature = predictor.signature.with_instructions(f"optimized instructions {i} for {name}")
        if "conversation" in predictor.signature.input_fields:
            (output,) = predictor.signature.output_fields
            predictor.demos = [dspy.Example(prompt=f"Problem: {k} + 1?", **{output: f"<final_answer>{k + 1}</final_answer>"})
                               for k in range(2)]
    path = save_compiled(tmp_path / "out" / "compiled.json", program_module, config,
                         {"base_program": base_program_record(recipe), "optimizer": "test"})
    return path, config, program_module, recipe


def prompts(program):
    """Every predictor's rendered messages for the same inputs: what the LM would be sent."""
    inputs = {"conversation": [{"role": "system", "content": "sys"}, {"role": "user", "content": "Problem: 2 + 2?"}],
              "prompt": "What's next?", "question": "What is 2 + 2?"}
    return {name: TextAdapter().format(p.signature, p.demos, {k: v for k, v in inputs.items() if k in p.signature.input_fields})
            for name, p in program.named_predictors()}


@pytest.mark.parametrize("program", ["strawberry", "cot"])
def test_save_load_round_trip_gives_identical_prompts_and_knobs(tmp_path, program):
    path, config, original, _ = compiled_file(tmp_path, program)
    loaded_config, loaded = load_compiled(path)
    assert loaded_config.to_dict() == config.to_dict()
    assert prompts(loaded) == prompts(original)
    assert [p.signature.instructions for _, p in loaded.named_predictors()][0].startswith("optimized instructions 0")
    if program == "strawberry":
        assert loaded.knobs == config.strawberry and loaded.check.every == 3 and loaded.nudge.nudges == ["Go on."]
        assert loaded.step.system_prompt == "optimized instructions 0 for step.predict"
        assert any(m["content"] == "Problem: 1 + 1?" for m in prompts(loaded)["step.predict"])


def test_the_file_is_dspy_save_json_with_our_metadata(tmp_path):
    path, _, original, _ = compiled_file(tmp_path)
    state = json.loads(path.read_text())
    assert {"step.predict", "check.predict", "metadata", "strawberry"} <= set(state)
    assert "dependency_versions" in state["metadata"]
    plain = build_program(config_from_dict({"program": "strawberry"}))
    plain.load(str(path))  # DSPy's own load ignores our key
    assert plain.step.predict.signature.instructions == original.step.predict.signature.instructions
    assert not list(path.parent.glob("*.tmp.json"))


def test_run_accepts_a_compiled_file_with_overrides(tmp_path):
    path, *_ = compiled_file(tmp_path)
    config, program = load_program_file(path, {"limit": 1, "strawberry": {"max_turns": 2}})
    assert config.limit == 1 and config.strawberry.max_turns == 2 and config.strawberry.check_every == 3
    assert program.check.predict.signature.instructions.startswith("optimized instructions")


def test_a_changed_base_recipe_is_rejected(tmp_path):
    path, _, _, recipe = compiled_file(tmp_path)
    recipe.write_text(RECIPE.replace("max_turns: 6", "max_turns: 9"))
    with pytest.raises(UserError, match="has changed since") as err:
        load_program_file(path)
    assert "\n" not in str(err.value) and "recompile" in str(err.value)


def test_a_comment_or_layout_edit_of_the_base_recipe_is_not_a_change(tmp_path):
    path, _, _, recipe = compiled_file(tmp_path)
    recipe.write_text("# a note added after compiling\n" + RECIPE.replace("max_turns: 6", "max_turns:    6  # why 6"))
    config, program = load_program_file(path)  # the same settings: loads (a changed value is refused, above)
    assert program.check.predict.signature.instructions.startswith("optimized instructions")


def test_a_moved_base_recipe_still_loads(tmp_path):
    path, _, _, recipe = compiled_file(tmp_path)
    recipe.unlink()
    assert load_compiled(path)[0].strawberry.check_every == 3


def test_a_file_for_another_program_version_is_rejected(tmp_path):
    path, *_ = compiled_file(tmp_path)
    state = json.loads(path.read_text())
    del state["title.predict"]  # as if saved by a version of the program without the title module
    state["strawberry"]["structure"] = "0123456789abcdef"
    path.write_text(json.dumps(state))
    with pytest.raises(UserError, match="another version of the 'strawberry' program"):
        load_compiled(path)


@pytest.mark.parametrize("content, message", [
    ('{"step.predict": {}}', "not a compiled strawberry program"),
    ("{oops", "not valid JSON"),
])
def test_other_json_files_are_rejected(tmp_path, content, message):
    path = tmp_path / "other.json"
    path.write_text(content)
    with pytest.raises(UserError, match=message):
        load_program_file(path)
    with pytest.raises(UserError, match="compiled program not found"):
        load_program_file(tmp_path / "missing.json")


def test_a_compiled_file_is_replaced_and_a_foreign_one_refused(tmp_path):
    from strawberry_dspy.compile.compiled import claim_compile_output

    path, config, program_module, recipe = compiled_file(tmp_path)
    (path.parent / "report.md").write_text("from compiling this file")
    claim_compile_output(path.parent, path, True, ["report.md"], recipe)  # its own file: it may be replaced
    save_compiled(path, program_module, config, {"base_program": base_program_record(recipe), "optimizer": "again"})
    assert json.loads(path.read_text())["strawberry"]["optimizer"] == "again"
    assert sorted(p.name for p in path.parent.iterdir()) == ["compiled.json", "report.md"]  # nothing left beside it
    foreign = tmp_path / "out" / "settings.json"
    foreign.write_text('{"theme": "dark"}')
    with pytest.raises(UserError, match="settings.json exists and is not a compiled program"):
        claim_compile_output(foreign.parent, foreign, True, ["report.md"], recipe)
    assert foreign.read_text() == '{"theme": "dark"}'
