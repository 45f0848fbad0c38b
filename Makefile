# The two commands of the README: `make demo` and `make test`.
# Both create .venv if it is missing and install what they need from PyPI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo engine-demo test bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,demo]"
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/convert_digits.py --out out

engine-demo: $(VENV)/.installed
	$(PY) examples/engine_lif_network.py --out out

test: $(VENV)/.installed
	$(PY) -m pytest -q tests

bench: $(VENV)/.installed
	$(PY) benchmarks/lif_network.py
	$(PY) benchmarks/inference_digits.py

clean:
	rm -rf $(VENV) build *.egg-info
