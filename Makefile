# One-command set-up: every target below creates .venv and installs what it needs on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export MPLBACKEND := Agg

.PHONY: test demo bench lint clean graphviz chromium notebooks lab

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,notebooks]'
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[parity]' \
		|| echo "note: torch could not be installed here; the PyTorch parity tests will be skipped"
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[browser]' \
		|| echo "note: playwright could not be installed here; the browser test of export_html will be skipped"
	@touch $(STAMP)

# Graphviz's `dot` renders the compute graphs: install it when missing and we can, else say how.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Graphviz (dot) with apt-get..."; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz's 'dot' program is missing. Install it, then run make again:"; \
	    echo "  Debian/Ubuntu: sudo apt-get install graphviz"; \
	    echo "  macOS:         brew install graphviz"; \
	    echo "  conda:         conda install -c conda-forge graphviz"; \
	    exit 1; \
	  fi; }
	@command -v dot >/dev/null 2>&1 || { echo "Graphviz install failed: install 'dot' by hand (see above)"; exit 1; }

# Debian's Chromium runs the browser test of the step-through page (export_html): installed when missing and
# we can; if it cannot be, that one test is skipped with the reason, the rest of `make test` still runs.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium with apt-get (for the browser test)..."; \
	    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	      || echo "note: Chromium could not be installed; the browser test will be skipped"; \
	  else \
	    echo "note: Chromium is missing (Debian/Ubuntu: sudo apt-get install chromium); the browser test will be skipped"; \
	  fi; }

test: $(STAMP) graphviz chromium
	$(PY) -m pytest

demo: $(STAMP) graphviz
	$(PY) -m nn.demo

# Runs every notebook top to bottom in a fresh kernel on this venv's Python and stores its outputs in place
# (pictures included), as they are committed; `make notebooks NB=05` runs only the notebooks whose name holds 05.
notebooks: $(STAMP) graphviz
	$(PY) tests/test_notebooks.py $(NB)

# JupyterLab from .venv, opened on notebooks/; its Python kernel is this venv's. Options go in LAB_ARGS,
# e.g. `make lab LAB_ARGS="--no-browser --port 8890"`. As root (a container) it needs --allow-root.
lab: $(STAMP) graphviz
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

# The bench extra brings the engines compared against (micrograd, torch); a missing one is reported, not hidden.
bench: $(STAMP)
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[bench]' \
		|| echo "note: the bench extra could not be installed; engines that are missing are reported as such"
	$(PY) -m bench

lint: $(STAMP)
	$(PY) -m ruff check autograd nn tests bench docs

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
