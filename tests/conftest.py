"""Tests run with strict dtype promotion, so a hidden float32/float64 mix is an error."""

import jax
import pytest


@pytest.fixture(autouse=True)
def _strict_promotion():
    with jax.numpy_dtype_promotion("strict"):
        yield
