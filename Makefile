# hwflow — the front door. Every target installs what it needs into .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HWFLOW := $(VENV)/bin/hwflow
STAMP := $(VENV)/.installed
DESIGN ?= digits_mlp
BOARD ?= pynq-z2
LEVEL ?=
TOOL ?=
SWEEP ?= designs/sweeps/digits_bits.yaml
WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: install demo demo-npz test test-all fuzz emu synth report estimate sweep bench doctor clean help

help:
	@echo "make demo                 run $(DESIGN) on $(BOARD) end to end (self-installing)"
	@echo "make test                 the test suite"
	@echo "make emu|synth|report|estimate DESIGN=x BOARD=y [LEVEL=csynth|vsynth|bitfile]"
	@echo "make synth TOOL=open      open path: da4ml Verilog, Verilator RTL sim, Yosys counts (no vendor tool)"
	@echo "make sweep SWEEP=designs/sweeps/z.yaml [WORKERS=2]"

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(HWFLOW) run $(DESIGN) --board $(BOARD)

demo-npz: $(STAMP)
	$(PY) scripts/make_npz_example.py
	$(HWFLOW) run npz_example --board $(BOARD)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -q -m "" $(PYTEST_ARGS)

# The large property-based fuzzing budget (5,000 cases per test; HWFLOW_FUZZ_LARGE_EXAMPLES to change).
# It is deselected from `make test`: run it on a schedule (CI) where it cannot be skipped.
fuzz: $(STAMP)
	$(PY) -m pytest -q -m fuzz_large -p no:cacheprovider tests/robustness/test_fuzz_config.py $(PYTEST_ARGS)

emu: $(STAMP)
	$(HWFLOW) run $(DESIGN) --board $(BOARD) --to emulate

estimate: $(STAMP)
	$(HWFLOW) run $(DESIGN) --board $(BOARD) --to estimate

synth: $(STAMP)
	$(HWFLOW) synth $(DESIGN) --board $(BOARD) $(if $(LEVEL),--level $(LEVEL)) $(if $(TOOL),--tool $(TOOL))
	$(if $(filter open,$(TOOL)),$(HWFLOW) run $(DESIGN) --board $(BOARD))

report: $(STAMP)
	$(HWFLOW) report $(DESIGN) --board $(BOARD)

sweep: $(STAMP)
	$(HWFLOW) sweep $(SWEEP) --workers $(WORKERS)

bench: $(STAMP)
	$(PY) bench/emulation.py --json
	$(PY) bench/estimator.py --json

doctor: $(STAMP)
	$(HWFLOW) doctor

clean:
	rm -rf build reports/*/ 
