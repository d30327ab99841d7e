"""Streaming in the real browser: the Playground shows a turn while the model is still writing it, then the turn.

`strawberry ui` runs the strawberry program against a loopback OpenAI-compatible server that streams its reply a
word a chunk and holds after the first three until the test releases it: the half-written turn is on the page for
as long as the test looks at it, with no clock to race.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

from strawberry_dspy.testing import LoopbackOpenAI
from tests.ui.test_browser import CHROMIUM_ARGS, VIEWPORT, chromium, serving

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Passing OpenAI-style message:DeprecationWarning")]

STEP = "Seventeen plus **twenty-five**: <b>add</b> the tens first, 10 + 20 = 30."
WRITTEN = "Seventeen plus **twenty-five**:"  # the first three chunks, shown as text (no bold, no HTML)
KNOBS = ["--strawberry.max_turns=1", "--strawberry.check_every=100", "--strawberry.verifier_every=0",
         "--strawberry.title_every=0", "--strawberry.force_answer=false", "--strawberry.step_format=plain"]


@contextmanager
def playground(model: LoopbackOpenAI, knobs: list[str]):
    """The Playground in headless Chromium, its program run against `model` once the test clicks Run."""
    from playwright.sync_api import sync_playwright

    chromium()
    with serving() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/playground")
        page.get_by_label("model spec (empty: the recipe's)").fill("openai/stub-model")
        page.get_by_label("API base (openai/... servers)").fill(model.url)
        page.get_by_label("question").fill("What is 17 + 25?")
        page.get_by_label("knob overrides, one --key=value per line").fill("\n".join(knobs))
        page.keyboard.press("Tab")
        try:
            yield page
        finally:
            browser.close()


def test_the_playground_shows_a_turn_while_it_is_written():
    from playwright.sync_api import expect

    with LoopbackOpenAI(STEP) as model:
        model.hold(3)
        with playground(model, KNOBS) as page:
            page.get_by_role("button", name="Run", exact=True).click()
            assert model.held.wait(120), "no streamed reply reached the hold: the Playground did not stream"

            writing = page.locator("[data-testid=stChatMessage]").filter(has_text="step · writing")
            writing.wait_for(timeout=60_000)
            expect(writing).to_contain_text(WRITTEN, timeout=30_000)
            body = page.inner_text("body")
            assert "10 + 20" not in body and "step · step 1" not in body  # the rest is not written yet
            assert page.get_by_role("button", name="Stop").is_enabled()

            model.release()
            page.get_by_text("stop reason: max_turns").wait_for(timeout=120_000)
            expect(writing).to_have_count(0)
            step = page.locator("[data-testid=stChatMessage]").filter(has_text="step · step 1")
            expect(step).to_contain_text(STEP)  # the whole turn, its markup as typed: nothing rendered
            assert page.locator("b", has_text="add").count() == 0 and page.locator("strong").count() == 0
    requests = model.completions()
    assert len(requests) == 1 and requests[0].body["stream"] is True


def test_stop_pressed_while_a_turn_is_written_ends_the_run_after_that_turn():
    """Stop clicked while the first step is held mid-stream: that step is finished, and nothing more is asked of a
    loop allowed 12 turns (the model waits for the test, not the test for the clock)."""
    from playwright.sync_api import expect

    knobs = [knob.replace("max_turns=1", "max_turns=12") for knob in KNOBS]
    with LoopbackOpenAI(STEP) as model:
        model.hold(3)
        with playground(model, knobs) as page:
            page.get_by_role("button", name="Run", exact=True).click()
            assert model.held.wait(120), "no streamed reply reached the hold"
            page.locator("[data-testid=stChatMessage]").filter(has_text="step · writing").wait_for(timeout=60_000)
            page.get_by_role("button", name="Stop").click()
            page.get_by_text("stopping after the turn in progress").wait_for(timeout=60_000)  # the page has it
            expect(page.get_by_role("button", name="Stop")).to_be_disabled()
            model.release()
            page.get_by_text("stop reason: stopped").wait_for(timeout=120_000)
            body = page.inner_text("body")
            assert body.count("step · step ") == 1 and "step · step 1" in body
            expect(page.get_by_role("button", name=re.compile("Continue for"))).to_be_enabled()
    assert len(model.completions()) == 1  # nothing asked after the turn in flight
