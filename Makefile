# Every target that needs Python builds the virtual environment first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-lowest test-sqlite lint extract update compile bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) compile

compile: $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages --statistics

extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k ngettext:1,2 -o locales/messages.pot --no-location --sort-output --project=servicebot .

update: extract
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete --width 100
	$(BIN)/python locales/sync_en.py

run: install
	$(BIN)/servicebot run

# Worker processes for the suite (pytest-xdist); WORKERS=0 runs it in this process.
WORKERS ?= 3

test: install
	$(BIN)/python -m pytest -q -n $(WORKERS)

# The floors in pyproject.toml must stay true: a separate environment with the lowest version
# each direct dependency allows (uv resolves that; pip cannot), then the whole suite.
LOWEST := .venv-lowest
test-lowest: compile
	rm -rf $(LOWEST)
	$(PY) -m venv $(LOWEST)
	$(LOWEST)/bin/pip install -q 'uv>=0.4'
	$(LOWEST)/bin/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	$(LOWEST)/bin/python -m pytest -q -n $(WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check bot handlers tests bench

bench: install
	$(BIN)/python bench/matcher.py
	$(BIN)/python bench/conversation.py
	$(BIN)/python bench/ikm.py

clean:
	rm -rf $(VENV) $(LOWEST) data
