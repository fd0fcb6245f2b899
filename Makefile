# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_OFFLINE := --record-mode=none --disable-socket --allow-unix-socket --allow-hosts=127.0.0.1,::1

.PHONY: demo test lint notebook bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,openai]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pd-toolkit check --sandbox

test: $(STAMP) lint
	$(PY) -m pytest $(PYTEST_OFFLINE) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
