"""Keys only where they belong: an api_base server gets the key the user named for it, never a provider's.

A real HTTP server on 127.0.0.1 records the Authorization header the real DSPy client sends it.
"""

import os
from pathlib import Path

import pytest

from strawberry_dspy.config import config_from_dict
from strawberry_dspy.errors import UserError
from strawberry_dspy.models import lm_for
from strawberry_dspy.testing.loopback_openai import LoopbackOpenAI

PROVIDER_KEYS = {"OPENAI_API_KEY": "sk-real-openai-key", "ANTHROPIC_API_KEY": "sk-ant-real-key",
                 "GROQ_API_KEY": "gsk-real-key"}


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A loopback server, with real provider keys in the environment and an empty working directory (.env)."""
    monkeypatch.chdir(tmp_path)
    saved = dict(os.environ)
    os.environ.update(PROVIDER_KEYS)
    with LoopbackOpenAI() as loopback:
        yield loopback
    os.environ.clear()
    os.environ.update(saved)  # a .env read writes to os.environ


def sent_authorizations(server: LoopbackOpenAI, **config) -> set:
    lm = lm_for(config_from_dict({"model": "openai/stub-model", "api_base": server.url, **config}))
    assert lm("Say hi.") == ["<final_answer>4</final_answer>"]
    return {r.authorization for r in server.completions()}


def test_a_provider_key_never_reaches_an_api_base_server(server):
    sent = sent_authorizations(server)
    assert sent and not any(key in str(sent) for key in PROVIDER_KEYS.values())
    assert sent == {"Bearer local"}  # a placeholder OpenAI clients require; a keyless server ignores it


def test_the_server_gets_the_key_its_variable_names(server, monkeypatch):
    monkeypatch.setenv("MY_SERVER_KEY", "sk-for-this-server")
    assert sent_authorizations(server, api_key_env="MY_SERVER_KEY") == {"Bearer sk-for-this-server"}


def test_the_named_variable_may_come_from_dotenv(server, tmp_path):
    (tmp_path / ".env").write_text("MY_SERVER_KEY=sk-from-dotenv\n")
    assert sent_authorizations(server, api_key_env="MY_SERVER_KEY") == {"Bearer sk-from-dotenv"}


def test_the_key_stays_out_of_the_lm_state(server, monkeypatch):
    monkeypatch.setenv("MY_SERVER_KEY", "sk-for-this-server")
    lm = lm_for(config_from_dict({"model": "openai/stub-model", "api_base": server.url, "api_key_env": "MY_SERVER_KEY"}))
    assert "sk-for-this-server" not in str(lm.dump_state())


@pytest.mark.parametrize("config, words", [
    ({"api_key_env": "MY_UNSET_KEY"}, ["MY_UNSET_KEY", "not set", "export MY_UNSET_KEY="]),
    ({"api_key_env": "not a name"}, ["'not a name'", "api_key_env: MY_SERVER_KEY"]),
    ({"api_base": None, "api_key_env": "MY_SERVER_KEY"}, ["no api_base", "--api-base"]),
])
def test_a_bad_api_key_env_is_one_line(server, config, words):
    with pytest.raises(UserError) as info:
        lm_for(config_from_dict({"model": "openai/stub-model", "api_base": server.url, **config}))
    message = str(info.value)
    assert "\n" not in message and all(word in message for word in words)
    assert not server.completions()


def test_another_providers_key_never_reaches_an_api_base_server(server):
    # groq speaks the OpenAI wire format: pointed at this server, it must not bring GROQ_API_KEY along
    lm = lm_for(config_from_dict({"model": "groq/stub-model", "api_base": server.url}))
    assert lm("Say hi.") == ["<final_answer>4</final_answer>"]
    assert {r.authorization for r in server.completions()} == {"Bearer local"}


# -- a base URL from ./.env travels only with a key from the same file ------------------------------------------------

@pytest.mark.parametrize("variable", ["OPENAI_BASE_URL", "OPENAI_API_BASE"])
def test_a_dotenv_base_url_never_gets_the_shells_key(server, tmp_path, variable):
    # a cloned repository's .env points the provider at its author's host; the user's key is in the shell
    (tmp_path / ".env").write_text(f"{variable}={server.url}\n")
    with pytest.raises(UserError) as info:
        lm_for(config_from_dict({"model": "openai/stub-model"}))
    message = str(info.value)
    assert "\n" not in message and variable in message and "OPENAI_API_KEY" in message and "same file" in message
    assert not server.requests  # not even a probe reached the file's host
    assert variable not in os.environ  # the file's base URL never joined the environment


def test_a_dotenv_base_url_gets_the_key_of_its_own_file(server, tmp_path):
    (tmp_path / ".env").write_text(f"OPENAI_BASE_URL={server.url}\nOPENAI_API_KEY=sk-from-this-file\n")
    lm = lm_for(config_from_dict({"model": "openai/stub-model"}))
    assert lm("Say hi.") == ["<final_answer>4</final_answer>"]
    assert {r.authorization for r in server.completions()} == {"Bearer sk-from-this-file"}  # not the shell's key


def test_the_shells_own_base_url_keeps_the_shells_key(server, monkeypatch, tmp_path):
    # both configured by the user in one place (the shell): used as litellm reads them
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://127.0.0.1:9/v1\n")  # the shell's value wins
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    lm = lm_for(config_from_dict({"model": "openai/stub-model"}))
    assert lm("Say hi.") == ["<final_answer>4</final_answer>"]
    assert {r.authorization for r in server.completions()} == {f"Bearer {PROVIDER_KEYS['OPENAI_API_KEY']}"}


def test_every_run_and_harvest_names_the_host_its_calls_go_to(server, tmp_path, capsys):
    from strawberry_dspy.cli import main

    problems = tmp_path / "p.jsonl"
    problems.write_text("".join(f'{{"question": "What is {i} + 2?", "answer": "{i + 2}"}}\n' for i in range(30)))
    host = server.url.split("//")[1].split("/")[0]
    for command in ("run", "harvest"):
        assert main([command, str(PROGRAMS / "zero_shot.yaml"), "--model", "openai/stub-model", "--api-base",
                     server.url, "--benchmark", f"jsonl:{problems}", "--limit", "1",
                     "--out", str(tmp_path / command)]) == 0
        assert f"model openai/stub-model: calls go to {host}" in capsys.readouterr().err


PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
