# One command each: every target creates/updates the local .venv by itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2 --dist loadfile   # two workers; each test file (and notebook) stays on one
NPM    ?= npm
# The site's JavaScript (MathJax), copied from node_modules/ for html_static_path.
ASSETS := vendor/static/jslib/versions.json
# Written after a successful `make book`; tests/test_site.py reuses a build newer than every source.
BOOK_OK := _build/.book-ok

.PHONY: book assets test lab exercises grade grade-class gradescope bench clean venv

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## book: build the static site into _build/html (every notebook executed; a failing cell fails the build)
# SOLUTIONS=no leaves the solutions pages out (a graded course's public site); the default keeps them.
# tools/execute_book.py executes every chapter afresh, two at a time, into the execution cache;
# --all: re-read every page, so that no page keeps a link resolved by an earlier build. No MPLBACKEND here: kernels use matplotlib's inline backend.
SOLUTIONS ?= yes
BOOK_TOC  := $(if $(filter no,$(SOLUTIONS)),--toc _build/toc-without-solutions.yml)
book: $(STAMP) $(ASSETS)
	@rm -f $(BOOK_OK)
	$(BIN)/python -m tools.book_options --check
	$(if $(BOOK_TOC),$(BIN)/python -m tools.book_options --toc _build/toc-without-solutions.yml)
	NNBOOK_WIDGETS=static $(BIN)/python tools/execute_book.py
	NNBOOK_WIDGETS=static $(BIN)/jupyter-book build --all -W -n --keep-going $(BOOK_TOC) . \
	  || { echo "make book: the build failed; see the notebook named above and _build/html/reports/" >&2; exit 1; }
	@$(if $(BOOK_TOC),echo "make book: built without the solutions pages (SOLUTIONS=no)",touch $(BOOK_OK))

## assets: install the site's JavaScript from the npm registry (versions pinned in package-lock.json)
assets: $(ASSETS)

node_modules/.package-lock.json: package.json package-lock.json
	@command -v $(NPM) >/dev/null 2>&1 || { echo "make assets: npm (Node.js 18 or newer) is needed to install MathJax (and axe-core for the browser tests)" >&2; exit 1; }
	$(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS): node_modules/.package-lock.json tools/vendor_assets.py
	$(PYTHON) tools/vendor_assets.py

## test: the whole test suite (nnlib unit tests, notebooks under nbval, grading, site checks)
test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

## lab: open the notebooks in JupyterLab
# As root (a container, a cloud VM) JupyterLab refuses to start without --allow-root: passed only then.
lab: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-lab.txt
	@if [ "$$(id -u)" -eq 0 ]; then echo "make lab: running as root, so JupyterLab gets --allow-root" >&2; fi
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

## exercises: regenerate exercises/ from solutions/ (deterministic; never edit exercises/ by hand)
exercises: $(STAMP)
	$(BIN)/python -m tools.exercises

## grade: grade a submission against its reference solution: make grade NB=path/to/student.ipynb
grade: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make grade NB=path/to/student.ipynb (several: NB=\"a.ipynb b.ipynb\")" >&2; exit 2; }
	$(BIN)/python -m tools.grade $(NB) $(GRADE_ARGS)

## grade-class: grade every notebook in a folder in parallel: make grade-class DIR=submissions/ [JOBS=4]
# writes DIR/_grading/gradebook.csv and DIR/_grading/feedback/*.md; GRADE_ARGS="--solutions private/" etc.
grade-class: $(STAMP)
	@test -n "$(DIR)" || { echo "usage: make grade-class DIR=path/to/submissions/ [JOBS=N]" >&2; exit 2; }
	$(BIN)/python -m tools.grade "$(DIR)" $(if $(JOBS),--jobs $(JOBS)) $(GRADE_ARGS)

## gradescope: write the Gradescope autograder archive _build/gradescope.zip (it holds the solutions: keep it private)
# one exercise per assignment: GRADE_ARGS="--solution solutions/05_activations.ipynb"; elsewhere: GRADE_ARGS="--solutions private/"
gradescope: $(STAMP)
	$(BIN)/python -m tools.grade --gradescope _build/gradescope.zip $(GRADE_ARGS)

## bench: training speed of nnlib vs scikit-learn (and PyTorch if installed); MNIST from NNLIB_DATA_DIR
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py

clean:
	rm -rf _build vendor .pytest_cache .hypothesis .jupyter_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
