# pubpipe: `make epub` / `make pdf` publish content/ to build/. Every target sets itself up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SOURCE ?= content
ARGS ?=

.PHONY: setup epub pdf html all test test-ace-corpus bench bench-assets clean

setup: $(STAMP)

$(STAMP): pyproject.toml tools/setup-system.sh tools/setup-ace.sh tools/ace/package-lock.json
	bash tools/setup-system.sh
	bash tools/setup-ace.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m compileall -q src >/dev/null  # bytecode, as a wheel install makes it
	touch $(STAMP)

epub: $(STAMP)
	$(BIN)/pubpipe build $(SOURCE) --format epub --out-dir build $(ARGS)

pdf: $(STAMP)
	$(BIN)/pubpipe build $(SOURCE) --format pdf --out-dir build $(ARGS)

html: $(STAMP)
	$(BIN)/pubpipe build $(SOURCE) --format html --out-dir build $(ARGS)

all: $(STAMP)
	$(BIN)/pubpipe build $(SOURCE) --format all --out-dir build $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(ARGS)

# Ace by DAISY on every post of the shared corpus (about 3 s per EPUB; not part of `make test`)
test-ace-corpus: $(STAMP)
	$(BIN)/python -m pytest -q -m ace_corpus $(ARGS)

bench: $(STAMP)
	command -v pandoc >/dev/null || (apt-get update -qq && apt-get install -y -qq pandoc) || true
	$(BIN)/python bench/run.py $(ARGS)

bench-assets: $(STAMP)
	$(BIN)/python bench/assets.py $(ARGS)

clean:
	rm -rf build .pubpipe-cache content/.pubpipe-cache content/build \
		"$${XDG_CACHE_HOME:-$$HOME/.cache}/pubpipe"
