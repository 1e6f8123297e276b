# The two commands a new user needs: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DSC    := $(VENV)/bin/dsc
STAMP  := $(VENV)/.installed-stamp
SPECS  := $(wildcard specs/*.dspec)

.PHONY: install test demo bench clean fuzz

install: $(STAMP)

# Re-installs only when pyproject.toml changes; `make install` twice does nothing the second time.
# torch goes first, pinned, so pip takes the CPU build on this machine's disk (never a multi-GB CUDA one).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: install
	$(PY) -m pytest

# Check, compile and run every example spec over the real data in examples/data, then explain one.
demo: install
	@for spec in $(SPECS); do \
	  name=$$(basename $$spec .dspec); \
	  echo; echo "== $$spec"; \
	  $(DSC) check $$spec || exit $$?; \
	  $(DSC) compile $$spec -o out/plans/$$name.plan.json || exit $$?; \
	  $(DSC) run $$spec --out out/$$name || exit $$?; \
	done
	@echo; echo "== dsc explain specs/common_gen.dspec"; $(DSC) explain specs/common_gen.dspec

bench: install
	$(PY) -m bench.run

# Fuzzing on demand (the suite runs the same hypothesis targets with few examples): the atheris
# (coverage-guided) targets in fuzz/ for FUZZ_SECONDS each, then the hypothesis fuzz tests with
# FUZZ_EXAMPLES examples per target. Corpora and crash files go to out/fuzz/.
FUZZ_SECONDS  ?= 60
FUZZ_EXAMPLES ?= 20000
fuzz: install
	$(PY) -m pip install -q atheris
	mkdir -p out/fuzz/corpus-parser out/fuzz/corpus-standardize
	$(PY) fuzz/fuzz_parser.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -artifact_prefix=out/fuzz/ \
	  out/fuzz/corpus-parser specs
	$(PY) fuzz/fuzz_standardize.py -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -artifact_prefix=out/fuzz/ \
	  out/fuzz/corpus-standardize
	DSC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider tests/reliability/test_rel_fuzz.py

clean:
	rm -rf out .pytest_cache .hypothesis build *.egg-info
