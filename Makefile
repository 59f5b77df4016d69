# eegnb tasks. Two commands do everything on a fresh Linux machine with Python 3.11:
#   make figures   regenerate every figure (default size) into figures/   (QUICK=1: CI size;
#                  FORMAT=png,pdf: 300-dpi vector copies too)
#   make test      unit tests + every notebook executed in quick mode + nbval on the references
# and, for working on the notebooks:
#   make lab             JupyterLab on notebooks/ with this venv's kernel
#   make book            static HTML book in build/book/html (renders executed copies, runs nothing)
#   make sync-notebooks  parameters, nbval markers, stripped outputs, jupytext twins (after edits)
#   make nbval-refs      re-execute every notebook at quick size into tests/nbval/ (ONLY=10_*)
PY ?= python3.11
VENV ?= .venv
BIN = $(VENV)/bin
JOBS ?= 1
# A torch/torchvision pair that imports together (zennit needs torchvision); aarch64 wheels differ.
ARCH := $(shell uname -m)
ifeq ($(ARCH),aarch64)
TORCH_PAIR ?= torch==2.9.1 torchvision==0.24.1
else
TORCH_PAIR ?= torch==2.14.1 torchvision==0.29.1
endif
# Tested versions of everything else (a constraints file; LOCK= installs from the lower
# bounds in pyproject.toml instead). `make lock` rewrites it from the current venv.
LOCK ?= requirements.lock
STAMP = $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
NOT_LOCKED = '^(torch|torchvision|triton)==|^(nvidia|cuda)-'

# nbval re-executes the reference copies in tests/nbval/ and compares the cells marked
# `# NBVAL_CHECK_OUTPUT` (the printed conclusions) after the sanitizers in sanitize.cfg.
NBVAL = --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval/sanitize.cfg
NOTEBOOKS = $(if $(ONLY),$(wildcard notebooks/$(ONLY).ipynb),$(wildcard notebooks/[0-9]*.ipynb))

.PHONY: install figures figures-variants test lint clean-cache strip lock lab book sync-notebooks nbval-refs

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH_PAIR)
	$(BIN)/pip install -q $(if $(LOCK),-c $(LOCK)) $(TORCH_PAIR) -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# Student versions of the notebooks (solution cells -> NotImplementedError stubs) in student/
.PHONY: student
student: install
	$(BIN)/python -m eegnb.student --out student notebooks/*.ipynb

lock: install
	{ grep '^#' requirements.lock; $(BIN)/pip freeze --exclude-editable | grep -vE $(NOT_LOCKED); } > requirements.lock.new
	mv requirements.lock.new requirements.lock

RUNNER = MPLBACKEND=Agg $(BIN)/python -m eegnb.figures $(if $(QUICK),--quick) --jobs $(JOBS) $(if $(FORMAT),--fig-format $(FORMAT))
SIZE = $(if $(QUICK),quick,default)
REAL_EEGBCI ?= ../shared/data/eegmmidb

figures: install
	$(RUNNER) $(if $(ONLY),--only '$(ONLY)')
	$(if $(ONLY),,$(MAKE) --no-print-directory figures-variants)

# Paper 3's other two tasks (figures 3x-*-auditory/-attention) and, where the public EEGBCI
# recordings are on disk, the real-data figures 3x-*-real.
figures-variants: install
	$(RUNNER) --only '30_*,31_*' --param task=auditory --run-dir runs/$(SIZE)-auditory
	$(RUNNER) --only '30_*,31_*' --param task=attention --run-dir runs/$(SIZE)-attention
	@if [ -d "$(REAL_EEGBCI)/S001" ]; then $(RUNNER) --only '30_*,31_*' --dataset eegbci --data-dir $(REAL_EEGBCI) --run-dir runs/$(SIZE)-real; \
	else echo "no real EEGBCI recordings at $(REAL_EEGBCI): 3x-*-real figures not regenerated"; fi

test: install
	MPLBACKEND=Agg $(BIN)/python -m pytest -q -p no:cacheprovider $(NBVAL) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check eegnb tests

strip: install
	$(BIN)/python -m eegnb.nbtools strip notebooks/*.ipynb

sync-notebooks: install
	$(BIN)/python -m eegnb.nbtools sync $(NOTEBOOKS)

nbval-refs: install
	MPLBACKEND=Agg $(BIN)/python -m eegnb.nbtools refs $(NOTEBOOKS)

book: install
	$(BIN)/python -m eegnb.nbtools book build/book
	@echo "open build/book/html/index.html"

# The notebooks' kernel "python3" is this venv's Python when Lab runs from the venv
# (JUPYTER_PREFER_ENV_PATH puts the venv's kernelspecs before a user's own).
lab: install
	cd notebooks && JUPYTER_PREFER_ENV_PATH=1 $(abspath $(BIN))/jupyter lab

clean-cache:
	rm -rf .cache runs build
