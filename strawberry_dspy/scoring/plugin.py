"""Your own scorer: `scorer: module:function` (or `path/to/file.py:function`), a DSPy metric.

The function is called as DSPy calls a metric, `function(example, pred, trace=None)`: `example` is a `dspy.Example`
with the problem's `question`, gold `answer`, `problem_id` and the benchmark row's other fields (a jsonl file's extra
columns, a reasoning-gym entry's metadata); `pred` is a `dspy.Prediction` whose `answer` is the model's final answer
text (None when it gave none). It returns a bool or a score in [0, 1] (or an object with a `.score`, as GEPA's
metrics do); only True or 1.0 counts as correct. A scorer that cannot be imported, or that raises, is one line
naming it (exit 2): a broken scorer must not grade a harvest as all wrong.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from functools import lru_cache
from pathlib import Path
from typing import Callable

from strawberry_dspy.errors import UserError
from strawberry_dspy.scoring.scorers import Score

_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
FORM = "module:function (e.g. mypackage.checks:score) or path/to/file.py:function"


def is_plugin(name: str | None) -> bool:
    """Whether a scorer name names the user's own function (module:function) rather than a built-in scorer."""
    return bool(name) and ":" in name


@lru_cache(maxsize=None)  # once per process (a failed load is not cached: it raises)
def _load(spec: str) -> Callable:
    where, _, attribute = spec.rpartition(":")
    if not where or not _DOTTED.match(attribute):
        raise UserError(f"scorer {spec!r} is not of the form {FORM}")
    try:
        if where.endswith(".py"):
            path = Path(where).expanduser()
            if not path.is_file():
                raise UserError(f"scorer {spec!r}: no file {where!r}: check the path (relative to where you run)")
            module_spec = importlib.util.spec_from_file_location(f"strawberry_scorer_{path.stem}", path)
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        elif not _DOTTED.match(where):
            raise UserError(f"scorer {spec!r} is not of the form {FORM}")
        else:
            module = importlib.import_module(where)
    except UserError:
        raise
    except BaseException as exc:  # the user's module is arbitrary code: whatever it raises is its error
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise UserError(f"scorer {spec!r} cannot be imported ({type(exc).__name__}: {_one_line(exc)}): put its "
                        "module on PYTHONPATH or name its file as path/to/file.py:function") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise UserError(f"scorer {spec!r}: {where} has no function {attribute!r}: name a function taking "
                        "(example, pred, trace=None)")
    try:
        inspect.signature(function).bind(None, None, None)
    except TypeError:
        raise UserError(f"scorer {spec!r} must take DSPy's metric arguments (example, pred, trace=None), it takes "
                        f"{inspect.signature(function)}") from None
    except ValueError:  # a builtin without a signature: trust it
        pass
    return function


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


class PluginScorer:
    """The user's metric, loaded once; grades (problem fields, response) into a Score. Pickled by its spec (Ray)."""

    def __init__(self, spec: str):
        self.spec = spec
        self.function = _load(spec)

    def __reduce__(self):
        return PluginScorer, (self.spec,)

    def __call__(self, problem_id: str, question: str, gold: str, metadata: dict, response: str | None) -> Score:
        import dspy  # only a plugin scorer needs DSPy's Example / Prediction (export and stats never import dspy)

        fields = {**{k: v for k, v in metadata.items() if isinstance(k, str)}, "question": question, "answer": gold,
                  "problem_id": problem_id}
        example = dspy.Example(**fields).with_inputs("question")
        try:
            result = self.function(example, dspy.Prediction(answer=response), None)
        except Exception as exc:
            raise UserError(f"scorer {self.spec!r} raised {type(exc).__name__} on problem {problem_id}: "
                            f"{_one_line(exc)}; fix the scorer (it is called as {self.spec}(example, pred, "
                            "trace=None))") from None
        value = getattr(result, "score", result)
        if isinstance(value, bool) or (isinstance(value, (int, float)) and 0.0 <= float(value) <= 1.0):
            value = float(value)
        else:
            raise UserError(f"scorer {self.spec!r} returned {str(result)[:80]!r} on problem {problem_id}: a scorer "
                            "returns a bool or a score in [0, 1]")
        correct = value >= 1.0
        return Score(correct=correct, value=value, extracted=response, rule="scorer-pass" if correct else "scorer-fail")
