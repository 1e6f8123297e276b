"""atheris (coverage-guided) target: spec bytes through decode, parse, check and compile, and `fmt`.

Any exception escaping is a crash: bad input must end in diagnostics. Run with `make fuzz`, or
`python fuzz/fuzz_parser.py -max_total_time=60 fuzz/corpus-parser specs/`.
"""
import sys

import atheris

with atheris.instrument_imports(include=["dsc"]):
    from dsc.api import compile_text
    from dsc.fmt import format_source
    from dsc.syntax.load import decode_source


def test_one_input(data: bytes) -> None:
    source, diagnostics = decode_source(data, "fuzz.dspec")
    if source is None:
        assert diagnostics, "undecodable input without a diagnostic"
        return
    compile_text(source)  # no base_dir: nothing is looked for on disk
    text, _ = format_source(source)
    if text is not None:  # the canonical layout is a fixed point
        again, _ = decode_source(text.encode("utf-8"), "fuzz.dspec")
        assert format_source(again)[0] == text, "fmt is not idempotent"


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
