"""Every notebook follows the house conventions and runs top to bottom in quick mode."""

from __future__ import annotations

import json

import pytest

from eegnb.figures import discover
from eegnb.nbtools import parameters

from .conftest import NOTEBOOKS

ALL = discover(NOTEBOOKS)


def test_notebooks_exist():
    names = [p.name for p in ALL]
    assert "00_template.ipynb" in names and "01_quickstart.ipynb" in names


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_conventions(path):
    params = parameters(path)  # exactly one parameters cell, plain literals, shared names
    assert params["quick"] is False, "committed notebooks default to the full size"
    nb = json.loads(path.read_text())
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"], "first cell: title and purpose"
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            assert not c.get("outputs"), f"{path.name}: outputs must be stripped before committing"
    src = "".join("".join(c["source"]) for c in nb["cells"])
    assert "savefig(" not in src.replace("nb.savefig(", ""), "figures are saved through nb.savefig"


@pytest.mark.notebook
@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_runs_quick(path, run_notebook, quick_dirs):
    run_notebook(path.stem)
    prefix = path.name.split("_")[0]
    figs = sorted((quick_dirs / "figures").glob(f"{prefix}-*.png"))
    assert figs, f"{path.name} wrote no figure named {prefix}-<slug>.png"
