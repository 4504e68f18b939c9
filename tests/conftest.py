"""Tests run with strict dtype promotion, so a hidden float32/float64 mix is an error,
and without the command line's persistent compilation cache (a test run must neither
read a user's cache nor fill it)."""

import os

import jax
import pytest

os.environ.setdefault("JAXSNN_CACHE_DIR", "off")


@pytest.fixture(autouse=True)
def _strict_promotion():
    with jax.numpy_dtype_promotion("strict"):
        yield
