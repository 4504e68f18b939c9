"""What the property-based tests (tests/test_properties_*.py, hypothesis) share: their
settings and the check that an error comes from jaxsnn's own validation.

Hypothesis keeps caches (string constants of the code under test, Unicode tables) in
`./.hypothesis` even without an example database; they go to a temporary folder here,
removed when the test process ends, so a test run writes nothing into the checkout.
"""

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

import jaxsnn

_STORAGE = tempfile.TemporaryDirectory(prefix="jaxsnn-hypothesis-")
# read by hypothesis at its first write, after collection
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", _STORAGE.name)

JAXSNN_DIR = Path(jaxsnn.__file__).parent.as_posix()


def examples(max_examples: int) -> settings:
    """Settings of every property: `derandomize=True`, so the examples are the same on
    every run and machine and a CI failure reproduces locally; no example database;
    no deadline, since the first example of a shape includes its compilation."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def raised_in_jaxsnn(info) -> bool:
    """Whether the error of `pytest.raises(...) as info` was raised by jaxsnn's own
    checks, not deep inside JAX or NumPy."""
    return info.traceback[-1].path.as_posix().startswith(JAXSNN_DIR)
