"""Shared test settings.

The helpers in this folder (``casebuilder``, ``handcases``) are importable from every test
folder through ``pythonpath = ["tests"]`` in pyproject.toml.

Hypothesis runs derandomized everywhere (reproducible CI: the same examples on every run, no
example database); property tests may tighten the other settings with their own ``@settings``.
"""

import pytest
from hypothesis import HealthCheck, settings

# the helpers assert too (handcases checks every solved case): show their values on failure
pytest.register_assert_rewrite("handcases")

settings.register_profile(
    "nationcap",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("nationcap")
