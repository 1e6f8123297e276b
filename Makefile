# The two commands a new user needs: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DSC    := $(VENV)/bin/dsc
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.txt
PIP_VERSION  := 26.3
UV_VERSION   := 0.13.9
TORCH_WHEELS ?= /opt/wheels
SPECS  := $(wildcard specs/*.dspec)

.PHONY: install lock test demo bench clean fuzz

install: $(STAMP)

# Installs exactly what requirements.txt pins, every package checked against its hash, so the
# same commit gets the same libraries on every machine. Re-installs only when the lock or
# pyproject.toml changes; `make install` twice does nothing the second time. pyproject.toml keeps
# ranges for people who `pip install dsc` into an environment of their own.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==$(PIP_VERSION)
	$(PY) -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

# Re-resolves the lock from pyproject.toml (every extra) at the newest releases the ranges admit.
# torch stays on the CPU build on the project machines' disk (requirements/constraints.txt).
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==$(PIP_VERSION) uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile pyproject.toml requirements/build.in --all-extras --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 --find-links $(TORCH_WHEELS) \
	  -c requirements/constraints.txt -o $(LOCK)

test: install
	$(PY) -m pytest

# A quick local pass: the tests not marked slow, with the `dev` hypothesis profile (a tenth of the
# examples; tests/conftest.py). `make test` stays the full run CI needs.
.PHONY: test-fast
test-fast: install
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest -m "not slow"

# Check, compile and run every example spec over the real data in examples/data, then explain one.
demo: install
	@for spec in $(SPECS); do \
	  name=$$(basename $$spec .dspec); \
	  echo; echo "== $$spec"; \
	  $(DSC) check $$spec || exit $$?; \
	  $(DSC) compile $$spec -o out/plans/$$name.plan.json || exit $$?; \
	  $(DSC) run $$spec --out out/$$name --quiet || exit $$?; \
	done
	@echo; echo "== dsc explain specs/common_gen.dspec"; $(DSC) explain specs/common_gen.dspec

bench: install
	$(PY) -m bench.run

# Fuzzing on demand (the suite runs the same hypothesis targets with few examples): the atheris
# (coverage-guided) targets in fuzz/ for FUZZ_SECONDS each, then the hypothesis fuzz tests with
# FUZZ_EXAMPLES examples per target (numbers: twice as many). Corpora and crash files go to out/fuzz/.
FUZZ_SECONDS  ?= 60
FUZZ_EXAMPLES ?= 20000
# The hypothesis targets that scale with DSC_FUZZ_EXAMPLES (rel_support.fuzz_settings): readers and
# standardisation, report.md escaping and damaged stats, number literals at every position.
FUZZ_TESTS := tests/reliability/test_rel_fuzz.py tests/reliability/test_rel_report.py \
              tests/reliability/test_rel_numbers.py
fuzz: install
	$(PY) -m pip install -q atheris==3.0.0
	mkdir -p out/fuzz/corpus-parser out/fuzz/corpus-standardize
	$(PY) fuzz/fuzz_parser.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -artifact_prefix=out/fuzz/ \
	  out/fuzz/corpus-parser specs
	$(PY) fuzz/fuzz_standardize.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -artifact_prefix=out/fuzz/ \
	  out/fuzz/corpus-standardize
	DSC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider $(FUZZ_TESTS)

clean:
	rm -rf out .pytest_cache .hypothesis build *.egg-info
