"""A compile prints one progress bar per stage, never DSPy's per-problem "Average Metric" lines."""

import re

from tests.compile.test_search import compile_sums


def test_a_search_compile_shows_one_bar_per_stage_and_no_average_metric_lines(tmp_path, capfd):
    compile_sums(tmp_path, {"check_every": [1, 4]}, budget=3, progress=True)
    out, err = capfd.readouterr()
    printed = out + err
    assert "Average Metric" not in printed
    # tqdm redraws a bar with carriage returns; its final state is the last segment before a newline
    finals = [line.split("\r")[-1] for line in printed.split("\n") if "|" in line]
    labels = [re.match(r"\s*([^:|]+):", line).group(1) for line in finals if re.match(r"\s*([^:|]+):", line)]
    assert labels == ["the recipe on dev", "search", "the recipe on test", "the compiled program on test"]
