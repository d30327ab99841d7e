"""The real thing: `strawberry ui` on a harvest and runs of the embedded model, opened in headless Chromium."""

from __future__ import annotations

import html
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from strawberry_dspy.benchmarks import load_benchmark
from strawberry_dspy.ui import data
from tests.harvest.test_harvest_integration import CLI, SHORT, harvest_command
from tests.ui.stores import make_harvest, make_run
from tests.harvest.test_harvest_kill import ROOT

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:Passing OpenAI-style message:DeprecationWarning")]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 1700}


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)")
    pytest.importorskip("playwright", reason="playwright is in the [test] extra: pip install -e '.[test]'")
    pytest.importorskip("streamlit", reason="the UI needs the [ui] extra: pip install -e '.[ui]'")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(*args: str, timeout: int = 600) -> None:
    done = subprocess.run([*CLI, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def outputs(request):
    """A tiny real harvest (2 problems x 2 samples) and two real runs, all from the embedded model."""
    chromium()
    # not tmp_path_factory: pytest prunes its older base temp dirs, which other pytest runs on a shared machine
    # may do while this module still serves from here
    folder = tempfile.TemporaryDirectory(prefix="strawberry-ui-")
    request.addfinalizer(folder.cleanup)
    root = Path(folder.name)
    done = subprocess.run(harvest_command(root / "harvest"), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    cli("run", "programs/zero_shot.yaml", "--limit", "3", "--out", str(root / "runs" / "zero_shot"))
    cli("run", "programs/strawberry.yaml", "--limit", "3", "--out", str(root / "runs" / "strawberry"), *SHORT)
    return root


@contextmanager
def serving(*folders: Path):
    """`strawberry ui FOLDER ...` on a free port while the block runs; yields its URL."""
    port = free_port()
    child = subprocess.Popen([*CLI, "ui", *map(str, folders), "--port", str(port)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                assert child.poll() is None and time.monotonic() < deadline, "strawberry ui did not start"
                time.sleep(0.5)
        yield url
    finally:
        child.terminate()
        output, _ = child.communicate(timeout=30)
    assert f"strawberry ui: {url}" in output


@pytest.fixture(scope="module")
def server(outputs):
    """`strawberry ui HARVEST RUNS/` on a free port, until the module's tests are done."""
    with serving(outputs / "harvest", outputs / "runs") as url:
        yield url


@pytest.fixture(scope="module")
def scripted(request):
    """A scripted harvest (4 problems x 4 samples, pass rates 0 to 3/4: DPO pairs) and two scripted runs, served."""
    chromium()
    folder = tempfile.TemporaryDirectory(prefix="strawberry-ui-scripted-")
    request.addfinalizer(folder.cleanup)
    root = Path(folder.name)
    harvest_dir = make_harvest(root)
    gold = [p.answer for p in load_benchmark(f"jsonl:{root / 'problems.jsonl'}").problems("train", 4)]
    make_run(root / "runs", "run_a", gold[:2] + ["0", "0"], root / "problems.jsonl")
    make_run(root / "runs", "run_b", [gold[0], "0", gold[2], "0"], root / "problems.jsonl")
    with serving(harvest_dir, root / "runs") as url:
        yield url, root


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    """A fresh tab; afterwards, every request it made must have gone to the UI itself (it works offline)."""
    tab = browser.new_page(viewport=VIEWPORT)
    hosts = set()
    tab.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    yield tab
    tab.close()
    assert hosts == {server.split("/")[2]}


@pytest.fixture
def scripted_page(browser, scripted):
    """A fresh tab for the scripted outputs' server; it too asks nothing of any other host."""
    tab = browser.new_page(viewport=VIEWPORT)
    hosts = set()
    tab.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    yield tab
    tab.close()
    assert hosts == {scripted[0].split("/")[2]}


def content_with(page, needles: list[str], timeout: float = 30.0) -> str:
    """The page's HTML once it holds every needle (tables fill their cells a moment after they appear)."""
    deadline = time.monotonic() + timeout
    while True:
        content = page.content()
        if all(n in content for n in needles) or time.monotonic() > deadline:
            return content
        time.sleep(0.25)


def screenshot(page, tmp_path: Path, name: str) -> Path:
    """Save what the page shows (kept with the test's temporary files)."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 20_000
    return path


def test_harvest_browser_shows_the_problems_and_a_trace(page, server, outputs, tmp_path):
    with data.reading(outputs / "harvest") as store:  # read as the UI reads: no -wal/-shm left by the test itself
        problems = list(store.problems())
        outcomes = {p.id: [row.correct for row in store.traces(p.id)] for p in problems}
        shown = next((p for p in problems if len(set(outcomes[p.id])) == 2), problems[0])  # the page's default
        steps = [t.content for row in store.traces(shown.id) for t in store.turns(row.id) if t.kind == "step"]
    page.goto(server)  # opens on the harvest browser: it was given a harvest
    page.get_by_text("DPO pairs").first.wait_for(timeout=60_000)
    assert page.get_by_role("heading", name="Harvest browser").is_visible()
    # st.dataframe draws on a canvas; its cells are in the page's content
    content = content_with(page, [p.id for p in problems])
    screenshot(page, tmp_path, "harvest")
    assert all(p.id in content for p in problems), [p.id for p in problems]
    assert all(html.escape(p.question, quote=False) in content for p in problems)
    text = page.inner_text("body")
    assert "problems\n\n2" in text and "traces\n\n4" in text
    assert "sample 0 · answer" in text and "step · step 1" in text
    assert any(step.splitlines()[0][:40] in text for step in steps if step.strip())  # an open trace's turns
    leftovers = [p.name for p in (outputs / "harvest").iterdir() if p.name.endswith(("-wal", "-shm"))]
    assert leftovers == []


def test_runs_page_compares_the_runs(page, server, tmp_path):
    page.goto(f"{server}/runs")
    page.get_by_text("Accuracy (mean per-problem pass rate, 95% interval)").wait_for(timeout=60_000)
    page.get_by_text("one problem's traces").wait_for(timeout=30_000)
    content = content_with(page, ["zero_shot", "strawberry", "McNemar p"])
    assert "zero_shot" in content and "strawberry" in content and "McNemar p" in content
    screenshot(page, tmp_path, "runs")


def test_playground_runs_the_embedded_model(page, server, tmp_path):
    page.goto(f"{server}/playground")
    page.get_by_label("question").fill("What is 3 + 4?")
    page.get_by_label("gold answer (optional)").fill("7")
    page.get_by_label("knob overrides, one --key=value per line").fill(
        "--strawberry.max_turns=3\n--strawberry.step_tokens=24\n--strawberry.check_tokens=16\n"
        "--strawberry.title_every=1\n--strawberry.title_tokens=8")
    page.keyboard.press("Tab")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("stop reason").wait_for(timeout=240_000)
    # the whole run from the real model (that turns show while they are written, and that Stop ends the run after the
    # turn in flight, is tested against a model that waits for the test: test_stream_browser.py)
    assert page.locator("[data-testid=stChatMessage]").count() >= 3
    text = page.inner_text("body")
    assert "problem" in text and "prompt" in text and "completion tokens" in text
    verdict = page.locator("[data-testid=stAlert]").first.bounding_box()
    chat = page.locator("[data-testid=stChatMessage]").first.bounding_box()
    assert verdict["y"] < chat["y"]  # the verdict above the chat
    folded = page.locator("[data-testid=stExpander]").filter(has_text="step 1")
    assert folded.count() >= 1 and "step 1" in folded.first.inner_text()  # the first step folded under its title
    screenshot(page, tmp_path, "playground")


@pytest.mark.parametrize("path, heading", [("harvest", "Harvest browser"), ("runs", "Runs"),
                                           ("playground", "Playground"), ("", "Harvest browser")])
def test_every_page_opens_by_its_url(scripted_page, scripted, path, heading):
    scripted_page.goto(f"{scripted[0]}/{path}")
    scripted_page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
    assert "Page not found" not in scripted_page.inner_text("body")
    assert scripted_page.url.rstrip("/").endswith(path or "harvest")  # the root opens the start page's own URL


def test_dpo_preview_shows_chosen_and_rejected_texts_with_weights(scripted_page, scripted):
    scripted_page.goto(f"{scripted[0]}/harvest")
    scripted_page.get_by_text("pair 1 · weight").first.wait_for(timeout=60_000)
    text = scripted_page.inner_text("body")
    pair = text[text.index("pair 1 · weight"):]
    assert "chosen" in pair and "rejected" in pair and "vs rejected sample" in pair
    assert "<final_answer>15</final_answer>" in pair and "<final_answer>151</final_answer>" in pair


def test_runs_are_keyed_by_question_text(scripted_page, scripted):
    root = scripted[1]
    questions = [p.question for p in load_benchmark(f"jsonl:{root / 'problems.jsonl'}").problems("train", 4)]
    scripted_page.goto(f"{scripted[0]}/runs")
    scripted_page.get_by_text("one problem's traces").wait_for(timeout=60_000)
    content = content_with(scripted_page, questions)
    assert all(html.escape(q, quote=False) in content for q in questions)
    picker = scripted_page.get_by_label("one problem's traces")
    assert questions[0] in picker.input_value() or questions[0] in scripted_page.inner_text("body")
