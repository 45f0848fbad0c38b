"""Shared test set-up: an isolated build cache per test session."""
import os
import tempfile

import pytest


@pytest.fixture(scope="session", autouse=True)
def _session_cache_dir():
    """Keep test builds out of the user's cache (and share them in a run)."""
    if "ML_GENN_CACHE_DIR" not in os.environ:
        d = tempfile.mkdtemp(prefix="ml_genn_test_cache_")
        os.environ["ML_GENN_CACHE_DIR"] = d
    yield
