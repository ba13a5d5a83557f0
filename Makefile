# Two entry points (see README): `make bench` runs every suite and draws the figures, `make test`
# runs the test suite. Both create or update the project's virtual environment .venv themselves.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The free-threaded venv: harness.interpreters.FREE_THREADED_VENV says the same (a test checks it).
FT_VENV := .venv-ft
STAMP := $(VENV)/.installed
STAMP_TIME := $(shell date -u +%Y%m%d-%H%M%S)
BENCH_CSV ?= results/bench-$(STAMP_TIME).csv
BENCH_PLOTS ?= results/bench-$(STAMP_TIME)-plots
SUITE ?= all
# empty: the suite's default (quick; the smoke suite runs smoke sizes only)
PROFILE ?=

.PHONY: bench test gate gate-baseline reference reference-cluster reports cluster plots lint venv clean freethreaded test-freethreaded

venv: $(STAMP)

# The project and the plugins this repository ships (plugins/*: each its own distribution, found by
# the harness through its entry points), all editable.
PLUGINS := $(wildcard plugins/*/pyproject.toml)
$(STAMP): pyproject.toml $(PLUGINS)
	$(PYTHON) harness/tools/bootstrap.py $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,xronos]" $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

bench: $(STAMP)
	$(BIN)/python -m harness run --suite $(SUITE) $(if $(PROFILE),--profile $(PROFILE)) --out $(BENCH_CSV); \
	status=$$?; \
	$(BIN)/python -m harness plot $(BENCH_CSV) --out $(BENCH_PLOTS); \
	exit $$status

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The CI performance gate: the smoke cases of harness.analysis.gate (CI_SUITE, CI_BACKENDS, CI_REPEATS; a test
# checks that these lines agree), their same-run backend ratios judged against the committed baseline.
# gate-baseline remakes the baseline from three runs made exactly as CI makes one (harness.analysis.gate.calibrate
# sets each case's tolerance from how much they disagreed); only the baseline is committed.
GATE_CASES := --suite smoke --backends sequential,reactor,ray
GATE_CSV ?= results/gate-$(STAMP_TIME).csv
gate: $(STAMP)
	$(BIN)/python -m harness run $(GATE_CASES) --repeats 3 --out $(GATE_CSV) --quiet
	$(BIN)/python -m harness check $(GATE_CSV) --baseline results/baseline/ci_ratios.csv

gate-baseline: $(STAMP)
	rm -f results/gate-calibration-*.csv
	for i in 1 2 3; do \
		$(BIN)/python -m harness run $(GATE_CASES) --repeats 3 --out results/gate-calibration-$$i.csv --quiet \
		|| exit 1; \
	done
	$(BIN)/python -m harness check results/gate-calibration-*.csv --update-baseline \
		--baseline results/baseline/ci_ratios.csv

# The committed reference run of this machine and its figures; the smoke run gives `list` its estimates.
# The runs write beside the committed files and replace them at the end, so that the tree is not
# dirty while they measure (every row records the commit, +dirty when tracked files differ).
reference: $(STAMP)
	rm -f results/reference/all-quick.csv.next results/reference/smoke/smoke.csv.next
	mkdir -p results/reference/smoke
	$(BIN)/python -m harness run --suite all --out results/reference/all-quick.csv.next
	$(BIN)/python -m harness run --suite smoke --out results/reference/smoke/smoke.csv.next --quiet
	mv results/reference/all-quick.csv.next results/reference/all-quick.csv
	mv results/reference/smoke/smoke.csv.next results/reference/smoke/smoke.csv
	$(BIN)/python -m harness plot results/reference/all-quick.csv --out plots
	$(BIN)/python -m harness report results/reference/all-quick.csv --out results/REPORT.md

# The cluster suite on test hosts (network namespaces this run creates; needs root and iproute2), and
# its committed reference run with its figures and report (results/reference/cluster/).
CLUSTER_CSV ?= results/cluster-$(STAMP_TIME).csv
cluster: $(STAMP)
	$(BIN)/python -m harness run --suite cluster --out $(CLUSTER_CSV)

reference-cluster: $(STAMP)
	mkdir -p results/reference/cluster
	rm -f results/reference/cluster/cluster-quick.csv.next
	$(BIN)/python -m harness run --suite cluster --out results/reference/cluster/cluster-quick.csv.next
	mv results/reference/cluster/cluster-quick.csv.next results/reference/cluster/cluster-quick.csv
	$(BIN)/python -m harness plot results/reference/cluster/cluster-quick.csv --out plots
	$(BIN)/python -m harness report results/reference/cluster/cluster-quick.csv --out results/reference/cluster/REPORT.md

# Every committed report, rewritten from the committed CSVs without measuring anything (after a change
# to the report; tests/test_docs.py checks that each committed report is what these lines write).
reports: $(STAMP)
	$(BIN)/python -m harness report results/reference/all-quick.csv --out results/REPORT.md
	$(BIN)/python -m harness report results/reference/cluster/cluster-quick.csv --out results/reference/cluster/REPORT.md
	$(BIN)/python -m harness report results/reference/threads1/reactor-xronos-quick.csv --out results/reference/threads1/REPORT.md
	$(BIN)/python -m harness report results/reference/freethreaded/gym-quick.csv results/reference/freethreaded/training-quick.csv --out results/reference/freethreaded/REPORT.md
	$(BIN)/python -m harness report results/reference/freethreaded/threads1/gym-quick.csv results/reference/freethreaded/threads1/training-quick.csv --out results/reference/freethreaded/threads1/REPORT.md

# Optional: free-threaded CPython 3.13t (from Debian's signed source) and its venv $(FT_VENV), for the
# reactor-ft and xronos-ft backends. Built once; later calls only check it.
freethreaded:
	$(PYTHON) harness/tools/build_freethreaded.py --venv $(FT_VENV)

# The reactor runtime's tests under 3.13t, and the tests of the free-threaded backends (the kit's
# checks under 3.13t, their cells against the GIL build's). CI runs it: tests.no_skips makes a skip
# a failure (these tests skip themselves where the build is missing) and so is a GIL turned back on.
FT_TESTS := tests/harness/cells/test_freethreaded.py tests/harness/conformance/test_no_skips.py \
	tests/harness/conformance/test_conformance.py::test_the_free_threaded_backends_conform_under_their_interpreter
test-freethreaded: freethreaded $(STAMP)
	$(FT_VENV)/bin/python -m pytest -q -p no:cacheprovider -p tests.no_skips tests/backends/reactor
	$(BIN)/python -m pytest -q -p no:cacheprovider -p tests.no_skips $(FT_TESTS)

plots: $(STAMP)
	$(BIN)/python -m harness plot results/reference/all-quick.csv --out plots

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(FT_VENV) .freethreaded .pytest_cache .ruff_cache
