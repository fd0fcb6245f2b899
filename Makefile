# The two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_OFFLINE := --record-mode=none --disable-socket --allow-unix-socket --allow-hosts=127.0.0.1,::1
NOTEBOOK := notebooks/explore.ipynb

.PHONY: demo responder-demo test lint notebook bench eval clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,openai,agents,sandbox,responder,mcp,postgres]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m agents.investigate --sandbox

# The responder's whole loop on the sandbox: page, webhook, investigation, approval, note.
responder-demo: $(STAMP)
	$(PY) -m agents.responder.demo

# Tests never touch ~/.cache: each test opens its own store (tests/conftest.py); the notebook,
# run by nbmake outside those fixtures, keeps its history in memory. Credentials in your shell
# (and a tool selection) are unset, so nothing (the notebook included) reaches a real account.
# Tests run on every core (pytest-xdist); the 15 slowest are listed at the end.
test: $(STAMP) lint
	env -u PAGERDUTY_API_KEY -u PAGERDUTY_USER_API_KEY -u PAGERDUTY_OAUTH_TOKEN -u PD_TOOLKIT_TOOLS \
	PD_TOOLKIT_STORE=memory $(PY) -m pytest $(PYTEST_OFFLINE) -n auto --durations=15 \
	--nbmake tests $(NOTEBOOK) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Re-run notebooks/explore.ipynb in place on the sandbox, refreshing its committed outputs (the
# key is unset so real-account data never lands in the file). To open it: notebooks/README.md.
notebook: $(STAMP)
	env -u PAGERDUTY_API_KEY -u PAGERDUTY_USER_API_KEY -u PAGERDUTY_OAUTH_TOKEN PD_TOOLKIT_STORE=memory \
	$(PY) -c 'import nbclient, nbformat; \
	nb = nbformat.read("$(NOTEBOOK)", 4); \
	nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False, \
	    resources={"metadata": {"path": "notebooks"}}).execute(); \
	nbformat.write(nb, "$(NOTEBOOK)")'
	@echo "Refreshed $(NOTEBOOK); open it with Jupyter or VS Code (see notebooks/README.md)."

# Reproducible measurements on the sandbox (printed tables; see the README's Benchmarks). They
# keep history in memory (never in your ~/.cache store); benchmarks.store sizes its own file.
bench: $(STAMP)
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.tools
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.history
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.investigate
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.soak
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.responder
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.mcp
	PD_TOOLKIT_STORE=memory $(PY) -m benchmarks.store
	$(PY) -m benchmarks.startup

# The agent evaluation kit on the sandbox (see the README's "Evaluating an agent"): MODEL is a
# chat model (BASE_URL: any OpenAI-compatible server) or, by default, the scripted oracle;
# CASES a glob of case ids or categories, FACE=mcp for `pd-toolkit mcp`, PEER=pagerduty-mcp.
# Reports go to evals/reports/.
MODEL ?= oracle
eval: $(STAMP)
	PD_TOOLKIT_STORE=memory $(PY) -m evals run --model '$(MODEL)' \
	$(if $(BASE_URL),--base-url '$(BASE_URL)') $(if $(CASES),--cases '$(CASES)') \
	$(if $(FACE),--face '$(FACE)') $(if $(PEER),--peer '$(PEER)')

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
