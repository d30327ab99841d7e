"""Keys only where they belong: an api_base server gets the key the user named for it, never a provider's.

A real HTTP server on 127.0.0.1 records the Authorization header the real DSPy client sends it.
"""

import os

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
