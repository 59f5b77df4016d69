"""The HTML book builds (Sphinx + myst-nb, offline, executing nothing) from the quick-executed
nbval references, with the README as its landing page, a page per notebook, and each
notebook's figures shown on its page."""

from __future__ import annotations

import nbformat
import pytest

from eegnb import nbtools
from eegnb.figures import discover

from .conftest import NOTEBOOKS, ROOT

pytest.importorskip("myst_nb")


def test_stage_book_gallery_and_sources(tmp_path):
    staged = nbtools.stage_book(tmp_path / "src", prefer="refs")
    names = [p.name for p in discover(NOTEBOOKS)]
    assert [p.name for p in staged] == names
    index = (tmp_path / "src" / "index.md").read_text()
    assert index.startswith((ROOT / "README.md").read_text()[:200]) and "{toctree}" in index
    assert all(f"notebooks/{n[:-6]}" in index for n in names)
    for p in staged:
        prefix = p.name.split("_")[0]
        figs = sorted((ROOT / "figures").glob(f"{prefix}-*.png"))
        nb = nbformat.read(str(p), as_version=4)
        if figs:  # the gallery follows the title and names every committed figure
            assert nb.cells[1].cell_type == "markdown" and all(f"../figures/{f.name}" in nb.cells[1].source for f in figs)
            assert all((tmp_path / "src" / "figures" / f.name).exists() for f in figs)
        ref = ROOT / "tests" / "nbval" / p.name
        if ref.exists():  # executed outputs come along (the references hold them)
            assert any(c.get("outputs") for c in nb.cells)


@pytest.mark.notebook
def test_book_builds(tmp_path):
    index = nbtools.build_book(tmp_path / "book", prefer="refs")
    html = tmp_path / "book" / "html"
    assert index.exists()
    for p in discover(NOTEBOOKS):
        page = html / "notebooks" / f"{p.stem}.html"
        assert page.exists(), f"no page for {p.name}"
        figs = sorted((ROOT / "figures").glob(f"{p.name.split('_')[0]}-*.png"))
        if figs:
            assert figs[0].name in page.read_text(), f"{p.name}'s page does not show {figs[0].name}"
    assert "notebooks/01_quickstart.html" in index.read_text()
