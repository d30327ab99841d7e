"""The export's rows, byte for byte, on a synthetic store (eval/throughput/synthetic_store.py): reading the store faster (only
the chosen problems, two cursors, the meta of the kinds a format reads) must not change one byte of a row.

The digests are those the export wrote before those changes; a deliberate change of the row format updates them.
"""

import hashlib

import pytest

from eval.throughput.synthetic_store import grow
from strawberry_dspy.export import ExportSettings, export
from strawberry_dspy.store import StoredTurn, TraceStore
from strawberry_dspy.store.rows import stored_turn

TRACES = 200
# name: (format, settings, rows, sha256 of train.jsonl, first 16 hex digits)
CASES = {
    "sft": ("sft", {}, 62, "d797e01c00e517fe"),
    "sft-turns": ("sft", {"style": "turns"}, 62, "5d5e06a0247317ca"),
    "sft-messages-no-nudges": ("sft", {"sft_form": "messages", "nudges": "drop"}, 35, "11c3e0a1d2e07660"),
    "dpo": ("dpo", {}, 60, "d3056f8e97e6042a"),
    "dpo-tokens-resampled": ("dpo", {"weighting": "tokens", "resample": 2.0}, 120, "89c16b1928f7858a"),
    "kto": ("kto", {}, 120, "14863ff1813c83c3"),
    "stepwise": ("stepwise", {}, 59, "888730ec18198b7a"),
    "kto-turns-every-problem": ("kto", {"style": "turns", "band": (0.0, 1.0)}, 176, "89e6465a2b2dcfa9"),
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic") / "store"
    grow(directory, TRACES)
    return directory


@pytest.mark.parametrize("name", CASES)
def test_rows_are_byte_identical_to_the_pinned_export(synthetic, tmp_path, name):
    fmt, settings, rows, digest = CASES[name]
    report = export(synthetic, ExportSettings(format=fmt, **settings), tmp_path / name)
    written = (tmp_path / name / "train.jsonl").read_bytes()
    assert (report.rows, hashlib.sha256(written).hexdigest()[:16]) == (rows, digest)


def test_only_the_chosen_problems_are_read_with_the_meta_asked_for(synthetic):
    with TraceStore.open(synthetic) as store:
        every = list(store.by_problem())
        chosen = [problem.id for problem, _ in every[1::3]]
        some = list(store.by_problem(("check",), chosen))
        assert [problem.id for problem, _ in some] == chosen
        whole = dict((problem.id, traces) for problem, traces in every)
        for problem, traces in some:
            assert [t.id for t in traces] == [t.id for t in whole[problem.id]]
            for trace, full in zip(traces, whole[problem.id]):
                assert [(u.role, u.kind, u.content) for u in trace.turns] == [
                    (u.role, u.kind, u.content) for u in full.turns]
                # the meta of check turns only; every other turn gets an empty one
                assert [u.meta for u in trace.turns] == [u.meta if u.kind == "check" else {} for u in full.turns]
        assert list(store.by_problem((), [])) == []
        assert all(not u.meta for _, traces in store.by_problem((), chosen[:2]) for t in traces for u in t.turns)


def test_a_turn_built_in_one_step_is_the_dataclass():
    fast, slow = stored_turn("user", "nudge", "Sure?", {"nudge": 1}), StoredTurn("user", "nudge", "Sure?", {"nudge": 1})
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow) and type(fast) is StoredTurn
    with pytest.raises(AttributeError):  # still frozen
        fast.content = "changed"
