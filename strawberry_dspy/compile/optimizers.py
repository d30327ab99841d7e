"""DSPy's own optimizers by name: bootstrap (BootstrapFewShot), mipro (MIPROv2), gepa (GEPA).

Each goes through DSPy's contract, `optimizer.compile(student, trainset=..., valset=...)`.
What `--budget` means for each is in BUDGET_MEANING. The task model runs the program through
our TextAdapter; the prompt model (teacher / proposer / reflection LM) keeps DSPy's own
adapters, so a strong model speaks the formats DSPy's optimizers expect.
"""

from __future__ import annotations

import dspy
from dspy.teleprompt.gepa.instruction_proposal import InstructionProposer
from dspy.utils.exceptions import AdapterParseError

from strawberry_dspy.attempt import program_context
from strawberry_dspy.errors import UserError
from strawberry_dspy.program.adapter import MAX_DEMOS, MAX_REPLY_CHARS

BUDGET_MEANING = {
    "search": "optuna trials (each a full dev evaluation) besides the recipe's own",
    "bootstrap": "train problems tried for demos",
    "mipro": "MIPROv2 trials",
    "gepa": "GEPA metric calls, in dev-split sizes (budget x dev problems)",
}
OPTIMIZERS = tuple(BUDGET_MEANING)
GEPA_MAX_INSTRUCTION_CHARS = 1000


class UnderTextAdapter(dspy.Module):
    """Runs the wrapped program under the recipe's TextAdapter (`attempt.program_context`), whatever adapter the
    optimizer's own calls use; the LM stays the optimizer's (the task model, or a teacher)."""

    def __init__(self, program: dspy.Module, max_reply_chars: int):
        super().__init__()
        self.program, self.max_reply_chars = program, max_reply_chars

    def forward(self, **inputs):
        with program_context(None, self.max_reply_chars):
            return self.program(**inputs)


def is_turn_predictor(predictor: dspy.Predict) -> bool:
    return "conversation" in predictor.signature.input_fields


def compact_demos(program: dspy.Module) -> dspy.Module:
    """Keep demos small: a turn predictor's demo is its prompt (with the problem) and its reply, never the chat.

    Turn predictors are called in a loop with the whole history; a demo carrying its own
    `conversation` would grow every prompt (and the saved file) by a whole trace.
    """
    for _, predictor in program.named_predictors():
        if not is_turn_predictor(predictor):
            predictor.demos = list(predictor.demos)[:MAX_DEMOS]
            continue
        (output,) = predictor.signature.output_fields
        compact = []
        for demo in predictor.demos:
            demo = dict(demo)
            prompt, reply = demo.get("prompt"), demo.get(output)
            if not prompt or not reply:
                continue
            problem = next((m["content"] for m in demo.get("conversation") or [] if m.get("role") == "user"), None)
            if problem and problem not in prompt:
                prompt = f"{problem}\n\n{prompt}"
            prefill = demo.get("prefill") or ""
            if prefill and not str(reply).startswith(prefill.strip()):
                reply = prefill + str(reply)
            compact.append(dspy.Example(prompt=prompt, **{output: reply}))
        predictor.demos = compact[:MAX_DEMOS]
    return program


def _demo_limits(program: dspy.Module) -> dict:
    """Bootstrapped demos only for turn programs (a labeled question/answer pair means nothing to a turn)."""
    turns = any(is_turn_predictor(p) for _, p in program.named_predictors())
    return {"max_bootstrapped_demos": MAX_DEMOS, "max_labeled_demos": 0 if turns else MAX_DEMOS}


def bootstrap(student, trainset, valset, metric, feedback_metric, budget, task_lm, prompt_lm, concurrency, seed):
    """BootstrapFewShot: demos from the traces (of the teacher, when a prompt model is given) that got the gold answer."""
    limits = _demo_limits(student)
    limits["max_bootstrapped_demos"] = min(limits["max_bootstrapped_demos"], budget)
    teacher_settings = {"lm": prompt_lm} if prompt_lm is not None else {}
    optimizer = dspy.BootstrapFewShot(metric=metric, teacher_settings=teacher_settings, max_rounds=1,
                                      max_errors=len(trainset) + 1, **limits)
    return optimizer.compile(student, trainset=trainset[:budget])


def mipro(student, trainset, valset, metric, feedback_metric, budget, task_lm, prompt_lm, concurrency, seed):
    """MIPROv2: proposed instructions x bootstrapped demo sets, chosen by a Bayesian search on the dev split."""
    optimizer = dspy.MIPROv2(metric=metric, prompt_model=prompt_lm or task_lm, task_model=task_lm, auto=None,
                             num_candidates=max(2, min(budget, 6)), num_threads=concurrency, seed=seed,
                             max_errors=len(trainset) + len(valset) + 1, **_demo_limits(student))
    return optimizer.compile(student, trainset=trainset, valset=valset, num_trials=budget,
                             minibatch=len(valset) > 35, minibatch_size=min(35, len(valset)))


def gepa(student, trainset, valset, metric, feedback_metric, budget, task_lm, prompt_lm, concurrency, seed):
    """GEPA: the reflection (prompt) model rewrites instructions from textual feedback on the gold answer."""
    proposer = InstructionProposer(
        max_chars=GEPA_MAX_INSTRUCTION_CHARS,
        additional_instructions="The instruction is sent to a small model on every turn of a long chat: keep it short and plain.")
    optimizer = dspy.GEPA(metric=feedback_metric, max_metric_calls=budget * len(valset), reflection_lm=prompt_lm or task_lm,
                          instruction_proposer=proposer, component_selector="all", num_threads=concurrency, seed=seed,
                          reflection_minibatch_size=min(3, len(trainset)), track_stats=False, use_merge=False)
    return optimizer.compile(student, trainset=trainset, valset=valset)


RUNNERS = {"bootstrap": bootstrap, "mipro": mipro, "gepa": gepa}


def optimize(name: str, program: dspy.Module, trainset: list, valset: list, metric, feedback_metric, budget: int,
             task_lm: dspy.BaseLM, prompt_lm: dspy.BaseLM | None, concurrency: int, seed: int,
             max_reply_chars: int = MAX_REPLY_CHARS) -> dspy.Module:
    """Run one DSPy optimizer on the program; returns the optimized program with compact demos.

    The task model's replies are cut at `max_reply_chars` (the recipe's bound), as in `run` and `harvest`.
    """
    student = UnderTextAdapter(program.deepcopy(), max_reply_chars)
    try:
        with dspy.context(lm=task_lm):
            compiled = RUNNERS[name](student, trainset, valset, metric, feedback_metric, budget, task_lm, prompt_lm,
                                     concurrency, seed)
    except AdapterParseError as exc:  # the task model runs under our TextAdapter: only the prompt model's calls parse
        raise UserError(unparsable_prompt_model(name, prompt_lm or task_lm, exc)) from None
    return compact_demos(compiled.program)


def unparsable_prompt_model(optimizer: str, lm: dspy.BaseLM, exc: AdapterParseError) -> str:
    """One line: the optimizer's own model did not answer in DSPy's format, what it said, and the fix."""
    fields = ", ".join(exc.signature.output_fields)
    said = " ".join(str(exc.lm_response).split())[:120]
    return (f"--optimizer {optimizer}: the prompt model {getattr(lm, 'model', lm)!r} did not answer in DSPy's format "
            f"(expected the field(s) {fields}, got {said!r}); a model this small cannot propose instructions: pass a "
            f"stronger --prompt-model (e.g. an openai/... model with --api-base), or use --optimizer search or bootstrap")


def predictor_state(program: dspy.Module) -> dict:
    """Instructions and demo counts per predictor (for the metadata and the report)."""
    return {name: {"instructions": p.signature.instructions, "demos": len(p.demos)}
            for name, p in program.named_predictors()}

