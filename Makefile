# Every target bootstraps .venv on first use, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench bench-quick clean system
# The PDQ and index kernels compiled ahead of time (numba pycc, host CPU): commands start without numba.
# Rebuilt when the kernel source changes; without a compiler the JIT is used instead.
KERNELS := src/safestream/media/.kernels-built

$(STAMP): pyproject.toml scripts/bootstrap-system.sh
	bash scripts/bootstrap-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(KERNELS): $(STAMP) src/safestream/media/pdq_kernels.py src/safestream/media/index/hamming_kernels.py src/safestream/media/kernels_build.py
	$(BIN)/python -m safestream.media.kernels_build || echo "kernels not built ahead of time: numba's JIT is used"
	touch $@

system:
	bash scripts/bootstrap-system.sh

demo: $(KERNELS)
	$(BIN)/python -m safestream.demo

test: $(KERNELS)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Full sizes (10M-hash index, 100M-row ledger): an hour or more on 2 cores.
bench: $(KERNELS)
	$(BIN)/python -m bench

bench-quick: $(KERNELS)
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info $(KERNELS) src/safestream/media/_pdq_aot*.so src/safestream/media/index/_index_aot*.so
