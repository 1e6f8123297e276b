"""How many examples a property test draws, relative to the loaded hypothesis profile.

The profiles (`ci`, `dev`) are registered in tests/conftest.py; a test that needs more or fewer
examples than the profile gives a scale here instead of a count, so one variable
(HYPOTHESIS_PROFILE) turns every test up or down together.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def examples(scale: float = 1) -> int:
    """`scale` × the loaded profile's examples per test (at least 1)."""
    return max(1, round(scale * settings.default.max_examples))


# The reliability fuzz targets (tests/reliability) draw FUZZ_SHARE of the profile per target, or
# exactly DSC_FUZZ_EXAMPLES when that is set (`make fuzz` sets it to thousands).
FUZZ_SHARE = 0.4
_FUZZ_EXAMPLES = int(os.environ.get("DSC_FUZZ_EXAMPLES", "0"))


def fuzz_settings(scale: float = 1) -> settings:
    """hypothesis settings for a fuzz target: `scale` × its examples, no deadline, every health
    check off; derandomised (repeatable in CI) unless a long `make fuzz` run asks for > 100."""
    base = _FUZZ_EXAMPLES or examples(FUZZ_SHARE)
    return settings(max_examples=max(1, round(scale * base)), deadline=None,
                    derandomize=not _FUZZ_EXAMPLES or _FUZZ_EXAMPLES <= 100,
                    suppress_health_check=list(HealthCheck))
