"""atheris (coverage-guided) target: `dsc.locale.standardize` for every kind, locale and order over
arbitrary text. It must return a Result and never raise (options here are valid). Run with
`make fuzz`, or `python fuzz/fuzz_standardize.py -max_total_time=60`.
"""
import sys

import atheris

with atheris.instrument_imports(include=["dsc"]):
    from dsc.locale import KINDS, Result, standardize

LOCALES = ("en_US", "de_DE", "fr_FR", "es_MX", "ja_JP", "ar_EG", "hi_IN", "pt_BR", "fa_IR", "ru_RU")
ORDERS = (None, "DMY", "MDY", "YMD")
TARGETS = {"quantity": ("kg", "m", "l", "degC"), "money": (None, "EUR", "USD")}


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    kind = KINDS[fdp.ConsumeIntInRange(0, len(KINDS) - 1)]
    locales = [LOCALES[fdp.ConsumeIntInRange(0, len(LOCALES) - 1)] for _ in range(fdp.ConsumeIntInRange(0, 2))]
    order = ORDERS[fdp.ConsumeIntInRange(0, len(ORDERS) - 1)] if kind in ("date", "datetime") else None
    options = TARGETS.get(kind, (None,))
    target = options[fdp.ConsumeIntInRange(0, len(options) - 1)]
    value = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    result = standardize(kind, value, locales, order=order, target=target)
    assert isinstance(result, Result) and result.status in ("ok", "rejected", "ambiguous"), result


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
