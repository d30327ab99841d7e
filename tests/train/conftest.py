"""Fixtures for the train tests: the embedded model, converted once per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def hf_base(tmp_path_factory) -> Path:
    """The embedded GGUF converted to a Hugging Face folder (a real conversion, in a session cache)."""
    pytest.importorskip("trl")
    from strawberry_dspy.models import local_model_path
    from strawberry_dspy.train.convert import gguf_to_hf

    return gguf_to_hf(local_model_path(), cache_dir=tmp_path_factory.mktemp("hf-cache"))

