# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app survey_api

.PHONY: install run init test bench clean sample-brief fuzz

# Debian packages (Chromium, qpdf, poppler-utils, wrk): installed when missing, as root or with
# sudo; otherwise the script stops and prints the exact apt-get command to run.
system-packages-%:
	bash scripts/install-system-packages.sh $*

# The virtual environment is rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Create the embedded database, the built-in instruments and the demo organization and survey.
init: install
	mkdir -p var
	$(FLASK) init-db
	$(FLASK) seed-demo

# Start the three services (Ctrl-C stops all three).
run: system-packages-run init
	$(BIN)/honcho start -f Procfile

test: system-packages-test install
	$(BIN)/pytest -q

bench: system-packages-bench install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache

# Render docs/sample-brief.pdf and its page images from the demo data.
sample-brief: system-packages-test install
	$(BIN)/python scripts/make_sample_brief.py

# Longer API fuzzing: many more examples per operation than the bounded run in `make test`.
fuzz: system-packages-test install
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=500 $(BIN)/pytest -q tests/system/test_fuzz.py
