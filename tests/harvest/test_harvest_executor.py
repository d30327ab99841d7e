"""WindowedExecutor: ParallelExecutor's contract (order, DSPy settings, errors) with a bounded submission window."""

import threading
import time

import dspy
import pytest

from strawberry_dspy.harvest import executor as executor_module
from strawberry_dspy.harvest.executor import WINDOW_PER_THREAD, WindowedExecutor


def test_results_keep_input_order_and_each_task_sees_the_callers_settings():
    def task(i):
        time.sleep(0.001 * (i % 3))
        return i, dspy.settings.lm

    lm = dspy.utils.DummyLM([{"answer": "x"}])
    with dspy.context(lm=lm):
        results = WindowedExecutor(num_threads=4, disable_progress_bar=True).execute(task, list(range(50)))
    assert results == [(i, lm) for i in range(50)]


def test_at_most_a_window_of_tasks_is_ever_submitted(monkeypatch):
    submitted, finished, most = [0], [0], [0]
    lock = threading.Lock()
    real_pool = executor_module.ThreadPoolExecutor

    class CountingPool(real_pool):
        def submit(self, fn, *args):
            with lock:
                submitted[0] += 1
                most[0] = max(most[0], submitted[0] - finished[0])
            return super().submit(fn, *args)

    def task(i):
        time.sleep(0.002)
        with lock:
            finished[0] += 1
        return i

    monkeypatch.setattr(executor_module, "ThreadPoolExecutor", CountingPool)
    assert WindowedExecutor(num_threads=3, disable_progress_bar=True).execute(task, list(range(200))) == list(range(200))
    assert submitted[0] == 200 and most[0] <= WINDOW_PER_THREAD * 3


def test_errors_are_returned_as_none_and_too_many_cancel():
    def task(i):
        if i % 2:
            raise ValueError(f"odd {i}")
        return i

    executor = WindowedExecutor(num_threads=2, max_errors=100, disable_progress_bar=True)
    assert executor.execute(task, list(range(6))) == [0, None, 2, None, 4, None]
    assert sorted(executor.failed_indices) == [1, 3, 5]
    with pytest.raises(Exception, match="cancelled"):
        WindowedExecutor(num_threads=2, max_errors=2, disable_progress_bar=True).execute(task, list(range(40)))
