"""An interactive-style run (a student sets quick = True and runs a notebook from notebooks/,
passing no fig_dir) writes its figures under runs/interactive/figures, says so, and leaves
`git status` exactly as it was: the committed figures/ are written only by `make figures`."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from eegnb.figures import execute_notebook

from .conftest import NOTEBOOKS, ROOT


def _status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.notebook
def test_interactive_quick_run_leaves_git_clean(quick_dirs, tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    before = _status()
    out = tmp_path / "00_interactive.ipynb"
    # papermill runs from notebooks/ like Lab does; no fig_dir: the parameters cell's None holds
    err = execute_notebook(NOTEBOOKS / "00_template.ipynb", out, dict(quick=True, cache_dir=str(quick_dirs / "cache")))
    assert err is None, err
    figs = ROOT / "runs" / "interactive" / "figures"
    assert (figs / "00-example.png").exists()
    printed = "".join("".join(o.get("text", "")) for c in json.loads(out.read_text())["cells"]
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert str(figs) in printed, "an interactive run says where its figures go"
    assert _status() == before, "an interactive run changed the work tree"
