"""A spec path that is not a regular file: a FIFO made `dsc check`, `compile`, `fmt` and `explain` wait
forever for a writer, `/dev/zero` read until memory ran out, and a huge (sparse) file was read whole.
Only a regular file is read now, and at most MAX_SPEC_BYTES + 1 bytes of it (DSC107, DSC100).

The commands run in a child process (with a time limit and a 1 GiB address-space limit), so the
hang or the memory this guards against fails the test instead of stopping the suite.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from dsc.syntax.load import MAX_SPEC_BYTES

_DRIVER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from typer.testing import CliRunner
from dsc.commands import app
runner = CliRunner()
out = []
for args in json.loads(sys.argv[1]):
    done = runner.invoke(app, args)
    out.append([done.exit_code, done.output, repr(done.exception) if done.exit_code not in (0, 2, 3, 4) else ""])
print(json.dumps(out))
"""
COMMANDS = [["check"], ["compile"], ["fmt"], ["fmt", "--check"], ["explain"], ["diff", "good.dspec"]]


def _special_files(tmp_path):
    os.mkfifo(tmp_path / "fifo.dspec")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock.dspec"))
    (tmp_path / "folder.dspec").mkdir()
    device = "is a character device, not a spec file"
    return server, {"fifo.dspec": "is a FIFO (named pipe), not a spec file", "/dev/zero": device, "/dev/null": device,
                    "sock.dspec": "cannot be read (No such device or address)",  # open() itself refuses a socket
                    "folder.dspec": "is a directory, not a spec file"}


def test_a_spec_that_is_not_a_regular_file_is_refused_not_waited_on(tmp_path):
    (tmp_path / "good.dspec").write_text("gate {\n  dropped <= 5%\n}\n", encoding="utf-8")
    server, files = _special_files(tmp_path)
    # `dsc diff /dev/null NEW` means "no old spec: everything is added", as in `git diff`.
    cases = [(command, path) for path in files for command in COMMANDS if (command[0], path) != ("diff", "/dev/null")]
    try:
        done = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps([c[:1] + [p] + c[1:] for c, p in cases])],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    finally:
        server.close()
    assert done.returncode == 0, done.stderr[-2000:]
    for (command, path), (code, output, crash) in zip(cases, json.loads(done.stdout)):
        assert (code, crash) == (4, ""), (command, path, output, crash)
        assert f"DSC107]: {path}: {files[path]}" in output, (command, path, output)


@pytest.mark.parametrize("size", [MAX_SPEC_BYTES + 1, 8 << 30])
def test_an_oversized_spec_is_refused_after_reading_at_most_the_limit(tmp_path, size):
    # a sparse file: 8 GiB that take no disk, and would take 8 GiB of memory to read whole
    with open(tmp_path / "big.dspec", "wb") as fh:
        fh.truncate(size)
    done = subprocess.run([sys.executable, "-c", _DRIVER, json.dumps([[c, "big.dspec"] for c in ("check", "fmt")])],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    for code, output, crash in json.loads(done.stdout):
        assert (code, crash) == (2, ""), output
        assert f"DSC100]: big.dspec: is larger than a spec may be ({MAX_SPEC_BYTES} bytes)" in output


def test_a_plan_given_to_diff_is_read_like_a_spec(tmp_path):
    """`dsc diff` reads a plan .json only if it is a regular file, and a bounded number of bytes."""
    from pathlib import Path

    from typer.testing import CliRunner

    from dsc.commands import app
    from dsc.exitcodes import EXIT_INPUT_ERROR

    fifo = tmp_path / "plan.json"
    os.mkfifo(fifo)
    spec = Path(__file__).resolve().parents[2] / "specs" / "common_gen.dspec"
    result = CliRunner().invoke(app, ["diff", str(fifo), str(spec)])
    assert result.exit_code == EXIT_INPUT_ERROR and "not a spec file" in result.stderr
