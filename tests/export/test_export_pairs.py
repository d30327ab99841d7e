"""DPO pair selection: capped per problem, deterministic, spreading traces evenly."""

from collections import Counter

from strawberry_dspy.export.pairs import make_pairs


def test_pairs_are_capped_deterministic_and_keyed_by_problem():
    correct, incorrect = ["c1", "c2", "c3"], ["i1", "i2"]
    pairs = make_pairs(correct, incorrect, cap=4, seed=0, key="p1")
    assert len(pairs) == 4 and len(set(pairs)) == 4
    assert pairs == make_pairs(correct, incorrect, cap=4, seed=0, key="p1")
    assert all(c in correct and i in incorrect for c, i in pairs)
    others = {tuple(make_pairs(correct, incorrect, cap=4, seed=s, key=k)) for s in range(5) for k in ("p1", "p2")}
    assert len(others) > 1  # the choice is a seeded shuffle, not a fixed order


def test_pairs_use_every_trace_before_reusing_one():
    correct, incorrect = [f"c{i}" for i in range(3)], [f"i{i}" for i in range(5)]
    pairs = make_pairs(correct, incorrect, cap=5, seed=3, key="q")
    assert len({i for _, i in pairs}) == 5  # all five incorrect traces used
    assert max(Counter(c for c, _ in pairs).values()) == 2
    everything = make_pairs(correct, incorrect, cap=100, seed=3, key="q")
    assert len(everything) == 15 and len(set(everything)) == 15


def test_no_pairs_when_a_side_is_empty():
    assert make_pairs(["c"], [], cap=3, seed=0, key="x") == []
    assert make_pairs([], ["i"], cap=3, seed=0, key="x") == []
