"""The figure runner keeps going past a failing notebook, names the cell, and exits non-zero."""

from __future__ import annotations

import pytest

from eegnb.figures import discover, main
from eegnb.nbtools import build, parameters

PARAMS = 'dataset = "sim"\ndata_dir = ""\nquick = False\nseed = 0\ndevice = "cpu"\ncache_dir = ""\nfig_dir = "figs"'


def _write(folder):
    build(folder / "90_ok.ipynb", [("md", "# ok"), ("params", PARAMS), ("code", "import pathlib\npathlib.Path(fig_dir).mkdir(parents=True, exist_ok=True)\n(pathlib.Path(fig_dir) / f'90-quick{quick}.png').write_bytes(b'x')")])
    build(folder / "91_bad.ipynb", [("md", "# bad"), ("params", PARAMS), ("code", "x = 1"), ("code", "raise RuntimeError('boom')")])
    build(folder / "scratch.ipynb", [("md", "# not numbered: not discovered")])


def test_discover_and_only(tmp_path):
    _write(tmp_path)
    assert [p.name for p in discover(tmp_path)] == ["90_ok.ipynb", "91_bad.ipynb"]
    assert [p.name for p in discover(tmp_path, "90*")] == ["90_ok.ipynb"]


@pytest.mark.notebook
def test_runner_reports_failures(tmp_path, capsys):
    _write(tmp_path)
    figs = tmp_path / "figures"
    rc = main(["--quick", "--notebooks", str(tmp_path), "--fig-dir", str(figs), "--run-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert rc == 1
    assert "91_bad.ipynb" in out and "boom" in out and "cell" in out
    assert (figs / "90-quickTrue.png").exists()  # the good one ran, with quick injected
    assert (tmp_path / "runs" / "91_bad.ipynb").exists()


def test_parameters_cell_checks(tmp_path):
    build(tmp_path / "92_x.ipynb", [("md", "# x"), ("params", "quick = False\nseed = 1 + 1")])
    with pytest.raises(ValueError):
        parameters(tmp_path / "92_x.ipynb")
    build(tmp_path / "93_x.ipynb", [("md", "# x"), ("code", "quick = False")])
    with pytest.raises(ValueError, match="0 cells tagged"):
        parameters(tmp_path / "93_x.ipynb")


def test_parse_params():
    from eegnb.figures import parse_params

    assert parse_params(["task=auditory", "seed=3", "quick=True", "name=a=b"]) == dict(
        task="auditory", seed=3, quick=True, name="a=b")
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        parse_params(["task"])
