"""Shared fixtures: ``run_notebook(name)`` executes a notebook in quick mode once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def quick_dirs(tmp_path_factory):
    """Folders shared by every notebook run in this session (so trained models are reused).

    ``EEGNB_QUICK_DIR`` (set by tests/nbval/conftest.py) makes the papermill runs share them with
    the nbval runs of the reference copies: each model is trained once per session."""
    env = os.environ.get("EEGNB_QUICK_DIR")
    base = Path(env) if env else tmp_path_factory.mktemp("quick")
    for d in ("cache", "figures", "runs"):
        (base / d).mkdir(parents=True, exist_ok=True)
    return base


_RESULTS: dict[str, dict] = {}


def result_key(name: str, params: dict) -> str:
    """The key of one quick run in ``_RESULTS`` (tests/nbval/conftest.py fills it from nbval's run)."""
    return name + repr(sorted(params.items()))


@pytest.fixture(scope="session")
def run_notebook(quick_dirs):
    """``run_notebook("11_context_mask_experiments", **params) -> dict`` of recorded numbers.

    Runs the notebook with papermill in quick mode (cached per session and parameters); the
    executed copy lands in the session's ``runs`` folder; figures in its ``figures`` folder.
    """
    from eegnb.figures import execute_notebook
    from eegnb.notebook import read_records

    def run(name: str, **params):
        key = result_key(name, params)
        if key not in _RESULTS:
            src = NOTEBOOKS / (name if name.endswith(".ipynb") else f"{name}.ipynb")
            if not src.exists():
                pytest.fail(f"notebook {src} does not exist")
            out = quick_dirs / "runs" / f"{src.stem}-{abs(hash(key)) % 10**8}.ipynb"
            p = dict(quick=True, cache_dir=str(quick_dirs / "cache"), fig_dir=str(quick_dirs / "figures"))
            p.update(params)
            err = execute_notebook(src, out, p)
            if err is not None:
                pytest.fail(f"{src.name} failed: {err}")
            _RESULTS[key] = read_records(out)
        return _RESULTS[key]

    return run
