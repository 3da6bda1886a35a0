# nfkg: the four targets of the set-up contract (see README.md).
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= results

.PHONY: install llvm run test bench check-light docs dist-check clean

install: $(STAMP)

# Everything the tests need: every extra (train, scale, rt, fast) and the dev tools; torch pinned
# to its CPU build by constraints.txt. Then the numba kernels are compiled once (about 7 s), so
# that the first `make run` does not compile them in each of its workers.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (nfkg needs Python 3.11-3.13)"; exit 2; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[all,dev]'
	@$(MAKE) --no-print-directory llvm
	$(BIN)/python -m nfkg.protocol.warmup
	@touch $(STAMP)

# Sionna RT (the rt extra) traces on the CPU with Dr.Jit's LLVM backend, which needs LLVM 19
# (nfkg.model.rt finds the library itself). Installed with apt when missing and possible.
llvm:
	@if dpkg -s libllvm19 >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		apt-get install -y -q libllvm19 >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libllvm19 >/dev/null 2>&1; } || \
		echo "warning: apt-get could not install libllvm19: ray tracing (nfkg.model.rt) will not start"; \
	else echo "note: ray tracing (nfkg.model.rt) needs LLVM 19: sudo apt-get install libllvm19"; fi

run: install
	$(BIN)/nfkg reproduce --out $(OUT)

test: install
	$(BIN)/python -m pytest -n 2

bench: install
	$(BIN)/python benchmarks/run_all.py

# The light install: `pip install` of the wheel without extras in a fresh venv per Python,
# torch and Dask absent, the quick tests (scripts/check_light.sh; LIGHT_PYTHONS to choose).
LIGHT_PYTHONS ?= 3.11 3.12 3.13
check-light: install
	bash scripts/check_light.sh $(LIGHT_PYTHONS)

# The documentation site (docs/, Sphinx): every warning an error, every reference resolved,
# the tutorials executed. Output: docs/_build/html/index.html.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[all,dev,docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(BIN)/python -m sphinx -E -b html -W -n --keep-going -q docs docs/_build/html

# The sdist and the wheel (python -m build), their contents, the wheel installed in a fresh venv.
dist-check: $(DOCS_STAMP)
	bash scripts/dist_check.sh $(BIN)/python

clean:
	rm -rf $(VENV) $(OUT) build src/*.egg-info .pytest_cache docs/_build docs/tutorials docs/api/nfkg*.rst
