# One-command set-up: every target below creates .venv and installs what it needs on first use.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export MPLBACKEND := Agg

.PHONY: test demo bench lint clean graphviz

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,notebooks]'
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[parity]' \
		|| echo "note: torch could not be installed here; the PyTorch parity tests will be skipped"
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

test: $(STAMP) graphviz
	$(PY) -m pytest

demo: $(STAMP) graphviz
	$(PY) -m nn.demo

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
