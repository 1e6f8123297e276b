"""Suite-wide hypothesis profiles: how many examples every property test draws.

`ci` (the default, what `make test` runs) draws 100 examples per test (hypothesis's own default,
so the suite's coverage is what it was when tests spelled their counts out); `dev`
(`HYPOTHESIS_PROFILE=dev`, what `make test-fast` runs) draws 10, for a quick local pass. A test
that needs more or fewer than its neighbours says so as a scale of the profile,
`settings(max_examples=examples(3))` (tests/hypothesis_budget.py), never as a count of its own.
`pytest --hypothesis-profile NAME` also works and wins over the variable.

Neither profile has a deadline: the first example of a test that reaches a compiled kernel
(dsc/kernels/jit.py) pays its compilation or its load from the disk cache, and a deadline would
fail that example for a cost later examples never pay. Speed is measured in bench/, not here.
"""
from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")

# `--doctest-modules` would import every conftest.py as a test module too, and the conftests here
# (this one, tests/checks/) share the module name `conftest`: the second import would fail. They
# hold no doctests, so collect none of them (pytest still loads them as conftests).
collect_ignore_glob = ["conftest.py", "*/conftest.py"]

# Two conftest.py files (this one and tests/checks/) are both `conftest` to --doctest-modules,
# which would import the second over the first: they hold no doctests, so it does not collect them.
collect_ignore = ["conftest.py", "checks/conftest.py"]
