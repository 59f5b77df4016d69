"""An interactive-style run (a student sets quick = True and runs a notebook from notebooks/,
passing no fig_dir) writes its figures under runs/interactive/figures, says so, and leaves
`git status` exactly as it was: the committed figures/ are written only by `make figures`."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

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
    before, t0 = _status(), time.time()
    out = tmp_path / "00_interactive.ipynb"
    # papermill runs from notebooks/ like Lab does; no fig_dir: the parameters cell's None holds
    err = execute_notebook(NOTEBOOKS / "00_template.ipynb", out, dict(quick=True, cache_dir=str(quick_dirs / "cache")))
    assert err is None, err
    assert _status() == before, "an interactive run changed the work tree"
    figs = ROOT / "runs" / "interactive" / "figures"
    assert (figs / "00-example.png").stat().st_mtime >= t0 - 1, "the figure was not written there by this run"
    printed = "".join("".join(o.get("text", "")) for c in json.loads(out.read_text())["cells"]
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert str(figs) in printed, "an interactive run says where its figures go"


SETUP_NB = [("md", "# fmt"),
            ("params", 'dataset = "sim"\ndata_dir = ""\nquick = False\nseed = 0\ndevice = "cpu"\ncache_dir = ""\nfig_dir = None\nfig_format = "png"'),
            ("code", "import matplotlib.pyplot as plt\nimport eegnb\n"
                     "nb = eegnb.notebook.setup('92', seed=seed, device=device, fig_dir=fig_dir, fig_format=fig_format, cache_dir=cache_dir, quick=quick)\n"
                     "fig = plt.figure(); plt.plot([0, 1]); nb.savefig(fig, 'line')")]


@pytest.mark.notebook
def test_runner_passes_fig_dir_and_format(tmp_path, capsys):
    """`make figures FORMAT=png,pdf`: the runner passes fig_dir and fig_format to every notebook."""
    from eegnb.figures import main
    from eegnb.nbtools import build

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    build(nbs / "92_fmt.ipynb", SETUP_NB)
    figs = tmp_path / "figs"
    args = ["--notebooks", str(nbs), "--fig-dir", str(figs), "--run-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "c")]
    with pytest.raises(ValueError, match="fig_format"):
        main([*args, "--fig-format", "jpg"])  # refused before any notebook runs
    assert main([*args, "--fig-format", "png,pdf"]) == 0, capsys.readouterr().out
    assert sorted(p.name for p in figs.iterdir()) == ["92-line.pdf", "92-line.png"]
