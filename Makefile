# The two commands of the README: `make demo` and `make test`.
# Both create .venv if it is missing and install what they need from PyPI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Open MPI (Debian) for the data-parallel training tests (mpirun -np 2)
MPI_PACKAGES := openmpi-bin libopenmpi-dev

.PHONY: demo engine-demo test bench clean mpi-system

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test,demo]"
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/convert_digits.py --out out

engine-demo: $(VENV)/.installed
	$(PY) examples/engine_lif_network.py --out out

mpi-system:
	@command -v mpirun >/dev/null 2>&1 || { \
	  echo "installing Open MPI ($(MPI_PACKAGES)) for the data-parallel training tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(MPI_PACKAGES); }

test: mpi-system $(VENV)/.installed
	$(PY) -m pytest -q tests

bench: $(VENV)/.installed
	$(PY) benchmarks/lif_network.py
	$(PY) benchmarks/inference_digits.py

clean:
	rm -rf $(VENV) build *.egg-info
