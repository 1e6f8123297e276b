"""`import dsc` asks Arrow's allocator for huge pages, unless the user has said otherwise."""
import os
import subprocess
import sys

OPTION = "MIMALLOC_ALLOW_LARGE_OS_PAGES"


def _seen(env: dict) -> str:
    code = f"import dsc, os, pyarrow; print(os.environ.get({OPTION!r}))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_sets_the_default():
    env = {k: v for k, v in os.environ.items() if k != OPTION}
    assert _seen(env) == "1"


def test_a_users_setting_wins():
    assert _seen({**os.environ, OPTION: "0"}) == "0"
