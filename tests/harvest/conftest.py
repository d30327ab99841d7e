"""The CLI turns loguru on with a sink bound to the stderr of the moment (pytest's capture): undo it after each test."""

import pytest
from loguru import logger


@pytest.fixture(autouse=True)
def quiet_library_logging():
    yield
    logger.remove()
    logger.disable("strawberry_dspy")
