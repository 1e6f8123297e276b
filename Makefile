# The two commands a new user needs: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DSC    := $(VENV)/bin/dsc
STAMP  := $(VENV)/.installed-stamp
SPECS  := $(wildcard specs/*.dspec)

.PHONY: install test demo bench clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; `make install` twice does nothing the second time.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

test: install
	$(PY) -m pytest

demo: install
	@for spec in $(SPECS); do \
	  echo "== $$spec"; \
	  $(DSC) check $$spec || exit $$?; \
	  $(DSC) compile $$spec -o out/plans/$$(basename $$spec .dspec).plan.json || exit $$?; \
	  $(DSC) explain $$spec || exit $$?; \
	done

bench: install
	$(PY) -m bench.run

clean:
	rm -rf out .pytest_cache .hypothesis build *.egg-info
