"""The UI reads only what it was given, shows untrusted text as text, and asks for its token beyond loopback.

Streamlit's AppTest runs the real pages; paths typed into them lie outside the folders the UI was started on.
"""

import socket
from pathlib import Path

import pytest

pytest.importorskip("streamlit", reason="the UI needs the [ui] extra: pip install -e '.[ui]'")
from markdown_it import MarkdownIt  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from strawberry_dspy.cli import ui as ui_command  # noqa: E402
from strawberry_dspy.ui import access, dirs, live  # noqa: E402
from tests.conftest import scripted_lm  # noqa: E402
from tests.ui.stores import make_harvest  # noqa: E402
from tests.ui.test_pages import APP, harvest_page, playground_page  # noqa: E402

HOSTILE = "What is 2 + 2? ![x](http://198.51.100.7/p.png) [click](http://198.51.100.7/) <img src=x> www.example.com"


def type_into(at, key: str, text: str):
    """Type a new option into a selectbox that accepts them (AppTest only selects among the listed options)."""
    box = at.selectbox(key=key)
    box.options.append(text)
    return box.set_value(text)


def rendered(at) -> str:
    """The HTML of every element Streamlit renders as markdown (CommonMark + linkify, as its frontend does)."""
    md = MarkdownIt("commonmark").enable("linkify") if _has_linkify() else MarkdownIt("commonmark")
    sources = [e.value for kind in ("markdown", "caption", "error", "success", "warning", "info") for e in at.get(kind)]
    sources += [e.label for e in at.expander]
    return "\n".join(md.render(str(s)) for s in sources)


def _has_linkify() -> bool:
    try:
        import linkify_it  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def outside(tmp_path, monkeypatch) -> Path:
    """The UI started on one folder; a secret file and a harvest in another, and a .env in the working directory."""
    given, other = tmp_path / "given", tmp_path / "other"
    given.mkdir()
    other.mkdir()
    (other / "secret.csv").write_text("question,answer\nOPENAI_API_KEY=sk-secret-outside,1\n")
    make_harvest(other)
    (tmp_path / ".env").write_text("question,answer\nOPENAI_API_KEY=sk-secret-dotenv,1\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(dirs.ENV, str(given))
    return other


def test_the_harvest_browser_refuses_a_path_outside_its_folders(outside):
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    type_into(at, "harvest_dir", str(outside / "harvest")).run()
    assert not at.exception and len(at.error) == 1
    assert "is outside the folders this UI was started on" in at.error[0].value
    assert not at.dataframe and not at.metric  # nothing of that harvest was read


@pytest.mark.parametrize("spec", ["csv:.env", "csv:{other}/secret.csv", "csv:/etc/passwd", "jsonl:../../etc/passwd",
                                  "csv:given/../other/secret.csv"])
def test_the_playground_benchmark_field_never_opens_a_file_outside(outside, spec):
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    at.radio(key="source").set_value("random from a benchmark").run()
    at.text_input(key="spec").input(spec.format(other=outside)).run()
    assert not at.exception and "is outside the folders this UI was started on" in at.error[0].value
    page = " ".join(str(e.value) for kind in ("markdown", "caption", "error", "text") for e in at.get(kind))
    assert "sk-secret" not in page and "root:" not in page


def test_the_playground_runs_a_listed_recipe_but_not_one_outside(outside, monkeypatch, tmp_path):
    monkeypatch.setattr(live, "make_lm", lambda config: scripted_lm([{"step": "4"}, {"reply": "<final_answer>4</final_answer>"}]))
    (outside / "recipe.yaml").write_text("program: strawberry\n")
    (tmp_path / "programs").mkdir()  # ./programs: the recipes the Playground lists, as in a checkout
    (tmp_path / "programs" / "strawberry.yaml").write_text((access.PACKAGED_RECIPES / "strawberry.yaml").read_text())
    at = AppTest.from_function(playground_page, default_timeout=60).run()
    at.text_area(key="question").input("What is 2 + 2?")
    at.text_area(key="overrides").input("--strawberry.verifier_every=0\n--strawberry.check_every=1")
    at.run()
    type_into(at, "program", str(outside / "recipe.yaml"))  # typed and clicked in one go: AppTest forgets typed options
    at.button(key="run").click().run()
    assert "is outside the folders this UI was started on" in at.error[0].value and "live" not in at.session_state
    at.selectbox(key="program").set_value("programs/strawberry.yaml").run()
    at.button(key="run").click().run()
    assert at.session_state["live"].wait(60)
    at.run()
    target = tmp_path / "elsewhere" / "run"
    at.text_input(key="save_dir").input(str(target))
    at.button(key="save").click().run()
    assert "is outside the folders this UI may write" in at.error[-1].value and not target.parent.exists()
    at.text_input(key="save_dir").input("runs/mine")
    at.button(key="save").click().run()
    assert (tmp_path / "runs" / "mine" / "results.jsonl").is_file()


def test_questions_and_replies_are_shown_as_text_never_as_images_or_links(tmp_path, monkeypatch):
    out = make_harvest(tmp_path)
    from strawberry_dspy.store import TraceStore

    with TraceStore.open(out, readonly=False) as store:  # a hostile benchmark question and model reply
        store.conn.execute("UPDATE problems SET question = ?", (HOSTILE,))
        store.conn.execute("UPDATE turns SET content = ? WHERE role = 'assistant'", (HOSTILE,))
        store.conn.execute("UPDATE traces SET final_answer = ?", ("![a](http://198.51.100.7/a.png)",))
        store.conn.commit()
    monkeypatch.setenv(dirs.ENV, str(out))
    at = AppTest.from_function(harvest_page, default_timeout=60).run()
    assert not at.exception
    html = rendered(at)
    assert "198.51.100.7" in html  # the text is there ...
    assert "<img" not in html and "<a " not in html  # ... as text: no image fetched, no link


def test_a_token_guards_the_app_beyond_loopback(tmp_path, monkeypatch):
    monkeypatch.setenv(dirs.ENV, str(make_harvest(tmp_path)))
    monkeypatch.setenv(access.TOKEN_ENV, "the-token")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert "needs its access token" in at.error[0].value and not at.metric and not at.dataframe
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["token"] = "wrong"
    at.run()
    assert "needs its access token" in at.error[0].value and not at.dataframe
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["token"] = "the-token"
    at.run()
    assert not at.error and at.metric  # the harvest browser, shown


def test_streamlit_accepts_only_loopback_host_names_unless_told_otherwise():
    command = ui_command.streamlit_command("127.0.0.1", 8555)
    hosts = {a.split("=", 1)[1] for a in command if a.startswith("--server.allowedHosts=")}
    assert hosts == {"127.0.0.1", "localhost", "::1"}  # a DNS-rebinding page's own name is refused
    assert "--server.enableCORS=true" in command and "--server.enableXsrfProtection=true" in command


def test_binding_beyond_loopback_needs_the_flag_and_prints_a_token(tmp_path, capsys, monkeypatch):
    from strawberry_dspy.cli import main

    make_harvest(tmp_path)
    assert main(["ui", str(tmp_path / "harvest"), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-remote" in err
    started = {}
    monkeypatch.setattr(ui_command.os, "execve", lambda path, argv, env: started.update(argv=argv, env=env))
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["ui", str(tmp_path / "harvest"), "--host", "0.0.0.0", "--port", str(port), "--allow-remote"]) == 0
    out, err = capsys.readouterr()
    token = started["env"][access.TOKEN_ENV]
    assert len(token) >= 24 and f"?token={token}" in out and "beyond this machine" in err
