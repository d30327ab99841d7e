"""The real embedded llama.cpp engine (SmolLM2-135M), reached through dspy.LM over loopback HTTP."""

import json
import os
import socket
import urllib.request
from pathlib import Path

import pytest

from strawberry_dspy.errors import UserError
from strawberry_dspy.models import LocalEngine, local_model_path, resolve_lm
from strawberry_dspy.models.engine import CONTEXT_PER_SLOT, shared_engine

pytestmark = [
    pytest.mark.integration,
    # The project's step loop sends chat messages; this DSPy deprecates messages= dicts for lm15.Request.
    pytest.mark.filterwarnings("ignore:Passing OpenAI-style message:DeprecationWarning"),
]

SYSTEM = {"role": "system", "content": "You are a careful assistant who answers in one short sentence. " * 4}


def ask(lm, question: str) -> str:
    outputs = lm(messages=[SYSTEM, {"role": "user", "content": question}])
    assert len(outputs) == 1
    return outputs[0]


def slot_contexts(url: str) -> list[int]:
    with urllib.request.urlopen(f"{url}/slots", timeout=5) as response:
        return [slot["n_ctx"] for slot in json.load(response)]


def listening_hosts(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses with a listening socket on `port` (Linux /proc)."""
    hosts = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                hosts.add(address)
    return hosts


def test_local_answers_through_dspy_and_reuses_the_prefix_cache():
    lm = resolve_lm("local", max_tokens=16, cache=False)
    assert lm.model.startswith("openai/") and lm.kwargs["api_base"].startswith("http://127.0.0.1:")
    first = ask(lm, "What color is the sky?")
    assert first.strip()
    assert lm.history[-1]["usage"]["completion_tokens"] > 0

    ask(lm, "What color is grass?")  # same system prompt, new question: the prefix is served from the KV cache
    usage = lm.history[-1]["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] > 0
    assert usage["prompt_tokens_details"]["cached_tokens"] < usage["prompt_tokens"]


def test_engine_is_shared_across_resolve_calls():
    first, second = resolve_lm("local"), resolve_lm("local", temperature=0.0)
    assert first.kwargs["api_base"] == second.kwargs["api_base"]
    assert shared_engine(local_model_path()) is shared_engine(local_model_path())


def test_engine_listens_on_loopback_only():
    engine = shared_engine(local_model_path())
    port = int(engine.url.rsplit(":", 1)[1])
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs Linux /proc/net/tcp")
    assert listening_hosts(port) == {"0100007F"}  # 127.0.0.1, little-endian hex; nothing on 0.0.0.0 or ::


def test_slots_grow_on_demand_and_keep_the_url():
    engine = shared_engine(local_model_path(), slots=1)
    before = resolve_lm("local", max_tokens=8, cache=False)
    grown = resolve_lm("local", slots=engine.slots + 1, max_tokens=8, cache=False)
    assert engine.slots == len(slot_contexts(engine.url)) >= 2
    assert set(slot_contexts(engine.url)) == {CONTEXT_PER_SLOT}
    assert grown.kwargs["api_base"] == before.kwargs["api_base"] == f"{engine.url}/v1"
    assert ask(before, "Say hello.").strip()  # an LM built before the restart still reaches the engine

    slots = engine.slots
    resolve_lm("local", slots=1)  # asking for fewer never shrinks (or restarts) a running engine
    assert engine.slots == slots


def test_raw_chat_bypasses_http():
    engine = shared_engine(local_model_path())
    reply = engine.chat([SYSTEM, {"role": "user", "content": "Say hi."}], max_tokens=8)
    assert reply["choices"][0]["message"]["content"].strip()
    assert 0 < reply["usage"]["completion_tokens"] <= 8
    assert reply["timings"]["predicted_per_second"] > 0


def test_openai_compatible_path_over_loopback(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    engine = shared_engine(local_model_path())
    lm = resolve_lm("openai/whatever", api_base=f"{engine.url}/v1", max_tokens=8, cache=False)
    assert ask(lm, "Say hi.").strip()


def test_server_key_comes_from_the_variable_named_for_it(monkeypatch):
    """A server that demands a key gets it from the variable api_key_env names (never OPENAI_API_KEY); the LM never stores it."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(local_model_path())
    params.n_ctx = CONTEXT_PER_SLOT
    params.port = 0
    params.verbosity = 1
    params.api_keys = ["sk-loopback-test"]
    server = xllamacpp.Server(params)
    api_base = f"{server.listening_address}/v1"

    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-test")  # a provider's key: not sent to an api_base server
    unkeyed = resolve_lm("openai/whatever", api_base=api_base, max_tokens=8, cache=False, num_retries=0)
    with pytest.raises(Exception, match="(?i)api key|auth|401"):
        ask(unkeyed, "Say hi.")

    monkeypatch.setenv("MY_SERVER_KEY", "sk-loopback-test")
    lm = resolve_lm("openai/whatever", api_base=api_base, max_tokens=8, cache=False, num_retries=0,
                    api_key_env="MY_SERVER_KEY")
    assert ask(lm, "Say hi.").strip()
    assert "sk-loopback-test" not in str(lm.dump_state())

    monkeypatch.setenv("MY_SERVER_KEY", "sk-wrong")
    wrong = resolve_lm("openai/whatever", api_base=api_base, max_tokens=8, cache=False, num_retries=0,
                       api_key_env="MY_SERVER_KEY")
    with pytest.raises(Exception, match="(?i)api key|auth|401"):
        ask(wrong, "Say hi.")
    del server


def test_another_gguf_via_local_path_and_stop(tmp_path):
    gguf = tmp_path / "copy.gguf"
    gguf.symlink_to(local_model_path())
    engine = LocalEngine(gguf, slots=1, threads=1)
    try:
        assert engine.alias == "SmolLM2-135M-Instruct.Q4_1"  # symlink resolved to the real file
        assert engine.chat([{"role": "user", "content": "Hi"}], max_tokens=4)["choices"]
    finally:
        engine.stop()
    assert not engine.running
    with pytest.raises(RuntimeError, match="stopped"):
        engine.chat([{"role": "user", "content": "Hi"}])
    port = int(engine.url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_invalid_gguf_is_a_user_error(tmp_path):
    bad = tmp_path / "not-a-model.gguf"
    bad.write_text("this is not GGUF")
    with pytest.raises(UserError, match="not-a-model.gguf"):
        resolve_lm(f"local:{bad}")
