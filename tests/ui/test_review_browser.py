"""Review in the real browser: `strawberry ui` on a harvest, a trace and a problem flagged and unflagged in Chromium."""

from __future__ import annotations


import pytest

from strawberry_dspy.store import TraceStore
from tests.ui.stores import make_harvest
from tests.ui.test_browser import CHROMIUM_ARGS, VIEWPORT, chromium, serving

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Passing OpenAI-style message:DeprecationWarning")]


@pytest.fixture
def served(tmp_path):
    """A scripted harvest (4 problems x 4 samples) served by `strawberry ui` on a free port."""
    chromium()
    harvest = make_harvest(tmp_path)
    with serving(harvest) as url:
        yield url, harvest


def flags_of(harvest) -> list[tuple]:
    with TraceStore.open(harvest) as store:
        return [(f.problem_id, f.trace_id, f.note) for f in store.flags()]


def test_flag_a_trace_and_a_problem_in_the_browser(served):
    from playwright.sync_api import expect, sync_playwright

    url, harvest = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(url)
        flag = page.get_by_role("button", name="Flag trace").first  # in the first (open) trace of the first column
        flag.wait_for(timeout=60_000)
        page.get_by_label("note on the trace (optional)").first.fill("right answer, wrong steps")
        page.keyboard.press("Tab")
        flag.click()
        note = page.get_by_text("right answer, wrong steps (left out of exports)")
        note.wait_for(timeout=30_000)  # drawn again from the store
        ((problem, trace, text),) = flags_of(harvest)
        assert trace is not None and text == "right answer, wrong steps"
        expect(page.get_by_text(f"trace {trace} · flagged")).to_be_visible()

        page.get_by_role("button", name="Unflag trace").first.click()
        page.get_by_role("button", name="Flag trace").first.wait_for(timeout=30_000)
        expect(note).to_have_count(0)
        assert flags_of(harvest) == []

        page.get_by_text("review: flag this problem").click()
        page.get_by_role("button", name="Flag problem").click()
        page.get_by_text("review: flag this problem · flagged").click(timeout=30_000)
        page.get_by_role("button", name="Unflag problem").wait_for(timeout=30_000)
        assert flags_of(harvest) == [(problem, None, "")]
        page.get_by_role("button", name="Unflag problem").click()
        page.get_by_text("review: flag this problem", exact=True).wait_for(timeout=30_000)
        assert flags_of(harvest) == []
        browser.close()
