"""Test configuration: deterministic hypothesis runs (derandomized, no example database)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "repro", derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repro"))
