"""nbval runs of the reference copies share one quick folder with the papermill runs.

Imported when pytest collects tests/nbval/ (before any kernel starts): the reference copies'
parameters cell reads ``EEGNB_QUICK_CACHE`` / ``EEGNB_QUICK_FIGURES`` (see
``eegnb.nbtools.REF_INJECTED``), and ``tests/conftest.py``'s ``quick_dirs`` takes
``EEGNB_QUICK_DIR``, so a model trained by one run is loaded from cache by the other instead of
trained twice. Progress bars are off in these kernels (``eegnb.progress``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

if not os.environ.get("EEGNB_QUICK_DIR"):
    _base = Path(tempfile.mkdtemp(prefix="eegnb-quick-"))
    os.environ["EEGNB_QUICK_DIR"] = str(_base)
    atexit.register(shutil.rmtree, _base, ignore_errors=True)
_base = Path(os.environ["EEGNB_QUICK_DIR"])
for _d in ("cache", "figures", "runs"):
    (_base / _d).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("EEGNB_QUICK_CACHE", str(_base / "cache"))
os.environ.setdefault("EEGNB_QUICK_FIGURES", str(_base / "figures"))
os.environ.setdefault("EEGNB_NOTEBOOK_DIR", str(Path(__file__).resolve().parents[2] / "notebooks"))
os.environ.setdefault("EEGNB_PROGRESS", "off")
os.environ.setdefault("MPLBACKEND", "Agg")


# ------------------------------------------------------------------ one execution per notebook
# nbval keeps each cell's outputs on its item (``test_outputs``). When every cell of a fresh
# reference ran without error, the executed notebook is written to the session's runs folder and
# its records seed the ``run_notebook`` fixture, so tests/test_notebooks.py & co. read the numbers
# of that run instead of executing the notebook a second time. A stale reference (code differs
# from the notebook's) seeds nothing: the fixture then runs the notebook itself.

_CELLS: dict[str, list] = {}


def pytest_collection_modifyitems(session, config, items):
    from eegnb.notebook import RECORD_MIME

    for it in items:
        if hasattr(it, "cell") and str(it.fspath).endswith(".ipynb"):
            _CELLS.setdefault(str(it.fspath), []).append(it)
            # the record payload is JSON (nbval sanitizes strings only) and repeats what the
            # cell prints as text; its values are asserted by the record tests
            if RECORD_MIME not in it.parent.skip_compare:
                it.parent.skip_compare = (*it.parent.skip_compare, RECORD_MIME)


def pytest_runtest_makereport(item, call):
    if call.when != "call" or str(item.fspath) not in _CELLS:
        return
    items = _CELLS[str(item.fspath)]
    if item is not items[-1]:
        return
    outs = [getattr(it, "test_outputs", None) for it in items]
    n_code = sum(c.cell_type == "code" for c in item.parent.nb.cells)
    if len(items) != n_code:  # some cells deselected (-k): a partial run seeds nothing
        return
    if any(o is None for o in outs) or any(x.get("output_type") == "error" for o in outs for x in o):
        return
    _seed(Path(str(item.fspath)), item.parent.nb, items, outs)


def _seed(ref: Path, nb, items, outs) -> None:
    import copy

    import nbformat

    from eegnb import nbtools
    from eegnb.notebook import read_records

    from ..conftest import _RESULTS, NOTEBOOKS, result_key

    src = NOTEBOOKS / ref.name
    if not src.exists() or nbtools.code_cells(nb) != nbtools.code_cells(src):
        return
    run = copy.deepcopy(nb)
    by_id = {id(it.cell): o for it, o in zip(items, outs)}
    for cell, orig in zip(run.cells, nb.cells):
        if id(orig) in by_id:
            cell.outputs = [nbformat.from_dict(dict(o)) for o in by_id[id(orig)]]
    out = _base / "runs" / f"{ref.stem}-nbval.ipynb"
    nbformat.write(run, str(out))
    _RESULTS.setdefault(result_key(ref.stem, {}), read_records(out))
