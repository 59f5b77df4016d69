"""Every notebook has a plain-text twin (jupytext percent format) that matches it, and the
notebook tools (params, mark, sync) rewrite cells as documented, idempotently."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from eegnb import nbtools
from eegnb.figures import discover
from eegnb.notebook import interactive_fig_dir, parse_fig_format, setup

from .conftest import NOTEBOOKS, ROOT

ALL = discover(NOTEBOOKS)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_twin_matches_notebook(path):
    twin = nbtools.twin_path(path)
    assert twin.exists(), f"{path.name} has no twin {twin.relative_to(ROOT)}: run `make sync-notebooks`"
    assert twin.read_text() == nbtools.twin_text(path), (
        f"{twin.relative_to(ROOT)} is stale (the .ipynb is the source): run `make sync-notebooks`")


def test_no_orphan_twins():
    names = {p.stem for p in ALL}
    orphans = [p.name for p in (NOTEBOOKS / nbtools.TWIN_DIR).glob("*.py") if p.stem not in names]
    assert not orphans, f"twins without a notebook: {orphans}"


def test_twin_keeps_tags_and_round_trips(tmp_path):
    """The twin carries the cells' tags (papermill's `parameters`) and reads back as the same cells."""
    import jupytext

    src = NOTEBOOKS / "00_template.ipynb"
    text = nbtools.twin_text(src)
    assert '# %% tags=["parameters"]' in text
    back = jupytext.reads(text, fmt="py:percent")
    orig = nbformat.read(str(src), as_version=4)
    assert [(c.cell_type, c.source) for c in back.cells] == [(c.cell_type, c.source) for c in orig.cells]


def test_stale_twin_is_detected(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    p = nbs / "00_template.ipynb"
    shutil.copy(NOTEBOOKS / "00_template.ipynb", p)
    assert nbtools.write_twin(p) and not nbtools.write_twin(p)  # written once, then unchanged
    nb = nbformat.read(str(p), as_version=4)
    nb.cells[2].source += "\nx = 1"
    nbformat.write(nb, str(p))
    assert nbtools.twin_path(p).read_text() != nbtools.twin_text(p)


OLD_PARAMS = 'dataset = "sim"\ndata_dir = ""\nquick = False\nseed = 0\ndevice = "cpu"\ncache_dir = ""\nfig_dir = "../figures"\nextra = 1'
SETUP = 'nb = eegnb.notebook.setup("90", seed=seed, device=device, fig_dir=fig_dir, cache_dir=cache_dir, quick=quick)'


def test_params_rewrite_is_idempotent(tmp_path):
    p = tmp_path / "90_x.ipynb"
    nbtools.build(p, [("md", "# x"), ("params", OLD_PARAMS), ("code", "import eegnb\n" + SETUP),
                      ("code", "nb.report('{a}', a=1)"), ("code", "print(1)"),
                      ("code", "# NBVAL_IGNORE_OUTPUT\nnb.report('{b}', b=2)")])
    assert nbtools.sync(p) == ["params", "mark", "twin"]
    assert nbtools.sync(p) == []  # a second run changes nothing
    params = nbtools.parameters(p)
    assert params["fig_dir"] is None and params["fig_format"] == "png" and params["extra"] == 1
    nb = nbformat.read(str(p), as_version=4)
    lines = nb.cells[1].source.split("\n")
    assert lines.index(nbtools.FIG_FORMAT_LINE) == lines.index(nbtools.FIG_DIR_LINE) + 1
    assert "fig_dir=fig_dir, fig_format=fig_format, cache_dir" in nb.cells[2].source
    assert nb.cells[3].source.startswith(nbtools.CHECK_MARKER + "\n")
    assert nbtools.CHECK_MARKER not in nb.cells[4].source and nbtools.CHECK_MARKER not in nb.cells[2].source
    assert nbtools.CHECK_MARKER not in nb.cells[5].source  # opted out
    assert nbtools.twin_path(p).exists()


def test_params_rewrite_refuses_unknown_layout(tmp_path):
    p = tmp_path / "91_x.ipynb"
    nbtools.build(p, [("md", "# x"), ("params", OLD_PARAMS), ("code", "nb = setup('91')")])
    with pytest.raises(ValueError, match="fig_dir=fig_dir"):
        nbtools.sync(p)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_committed_parameters_are_interactive_safe(path):
    """No notebook writes into the committed figures/ unless told to (`make figures` tells it)."""
    params = nbtools.parameters(path)
    assert params["fig_dir"] is None, f"{path.name}: fig_dir must be None (run `make sync-notebooks`)"
    parse_fig_format(params["fig_format"])


def test_fig_dir_none_and_formats(tmp_path, monkeypatch, capsys):
    import matplotlib.pyplot as plt

    work = tmp_path / "wb"
    (work / "notebooks").mkdir(parents=True)
    (work / "eegnb").mkdir()
    monkeypatch.chdir(work / "notebooks")
    assert interactive_fig_dir() == work / "runs" / "interactive" / "figures"
    nb = setup("90", device="cpu", fig_dir=None, cache_dir=None, fig_format="png,pdf")
    assert "runs/interactive/figures" in capsys.readouterr().out
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    out = nb.savefig(fig, "line")
    plt.close(fig)
    assert out == work / "runs" / "interactive" / "figures" / "90-line.png"
    assert out.read_bytes()[:4] == b"\x89PNG" and out.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    nb = setup("91", device="cpu", fig_dir=tmp_path / "f", cache_dir=None, fig_format="svg")
    fig = plt.figure()
    assert nb.savefig(fig, "x").suffix == ".svg" and not (tmp_path / "f" / "91-x.png").exists()
    plt.close(fig)
    assert parse_fig_format(["PDF", ".svg", "pdf"]) == ("pdf", "svg")
    for bad in ("jpg", "", "png,eps"):
        with pytest.raises(ValueError, match="fig_format"):
            parse_fig_format(bad)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_report_cells_are_checked_by_nbval(path):
    """Every cell printing a conclusion (nb.report) carries nbval's output-check marker."""
    nb = nbformat.read(str(path), as_version=4)
    unmarked = [i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and "nb.report(" in c.source and nbtools.CHECK_MARKER not in c.source
                and "# NBVAL_IGNORE_OUTPUT" not in c.source]
    assert not unmarked, f"{path.name}: nb.report cells {unmarked} lack {nbtools.CHECK_MARKER} (run `make sync-notebooks`)"
