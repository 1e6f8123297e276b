"""The exit codes of every dsc command, in one place (README.md lists them for users).

A problem's exit code names whose it is: the spec's (2), the input's (4), a failed error gate (3),
dsc's own bug (1), the command line's (64: a bad option or a missing argument,
EX_USAGE of sysexits.h).
"""
EXIT_OK = 0
EXIT_INTERNAL_ERROR = 1
EXIT_SPEC_ERROR = 2
EXIT_GATE_FAILED = 3
EXIT_INPUT_ERROR = 4
EXIT_DATA_CHANGED = 5  # `dsc diff --exit-code` / `--fail-on`: something changed (as `git diff --exit-code` exits 1)
EXIT_USAGE = 64  # a usage error (click's UsageError: unknown option, missing argument, bad value); sysexits' EX_USAGE
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, as shells report it
