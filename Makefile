# journeylab - every target creates .venv with the system python3 when it is missing
# and installs the project into it (again only when pyproject.toml changed).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.journeylab-installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: report test lab bench clean help

help:
	@echo "make report  - build/report.html: an overview of the bundled sample log"
	@echo "make test    - the whole suite, notebooks included (nbval)"
	@echo "make lab     - JupyterLab on notebooks/"
	@echo "make bench   - the benchmarks (several minutes)"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (journeylab)" >/dev/null
	@touch $(STAMP)

report: $(STAMP)
	$(BIN)/journeylab report --out build/report.html
	@echo "open build/report.html in a browser"

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2 --dist loadfile

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf build .pytest_cache
