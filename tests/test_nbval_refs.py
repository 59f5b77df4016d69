"""The nbval reference copies (tests/nbval/<name>.ipynb) are fresh: one per notebook, executed,
holding the notebook's own code cells (papermill's injected parameters aside).

``make test`` re-executes them with ``pytest --nbval-lax`` and compares the cells marked
``# NBVAL_CHECK_OUTPUT`` (the printed conclusions) after tests/nbval/sanitize.cfg. A notebook
edit without ``make nbval-refs`` fails here, so a stale reference never passes silently.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from eegnb import nbtools
from eegnb.figures import discover

from .conftest import NOTEBOOKS, ROOT

ALL = discover(NOTEBOOKS)
REFS = ROOT / "tests" / "nbval"


def _ref(path):
    ref = REFS / path.name
    if not ref.exists():
        pytest.fail(f"no nbval reference for {path.name}: run `make nbval-refs`")
    return ref


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_reference_is_fresh(path):
    ref = _ref(path)
    assert nbtools.code_cells(ref) == nbtools.code_cells(path), (
        f"tests/nbval/{path.name} is stale: its code cells differ from notebooks/{path.name}; run `make nbval-refs`")


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_reference_is_executed_and_checked(path):
    nb = nbformat.read(str(_ref(path)), as_version=4)
    injected = [c for c in nb.cells if nbtools.INJECTED_TAG in c.metadata.get("tags", [])]
    assert len(injected) == 1 and injected[0].source == nbtools.REF_INJECTED, "reference not made by make_reference"
    checked = [c for c in nb.cells if c.cell_type == "code" and nbtools.CHECK_MARKER in c.source]
    src_report = [c for c in nbtools.code_cells(path) if "nb.report(" in c and "# NBVAL_IGNORE_OUTPUT" not in c]
    assert len(checked) == len(src_report) >= 1 or not src_report, "every nb.report cell is marked for nbval"
    for c in checked:
        assert c.outputs, f"{path.name}: a checked cell has no stored output (reference not executed?)"
    for c in nb.cells:
        for o in c.get("outputs", []):
            assert o.get("output_type") != "error", f"{path.name}: reference holds an error"
            assert not set(o.get("data", {})) & {"image/png", "image/jpeg"}, "images are dropped from references"


def test_no_orphan_references():
    names = {p.name for p in ALL}
    assert not [p.name for p in REFS.glob("*.ipynb") if p.name not in names]


def test_stale_reference_detected(tmp_path):
    """The freshness check fails on a changed code cell and ignores the injected parameters."""
    src = NOTEBOOKS / "00_template.ipynb"
    nb = nbformat.read(str(src), as_version=4)
    inj = nbformat.v4.new_code_cell("quick = True")
    inj.metadata["tags"] = [nbtools.INJECTED_TAG]
    nb.cells.insert(2, inj)
    assert nbtools.code_cells(nb) == nbtools.code_cells(src)
    nb.cells[3].source = nb.cells[3].source.replace("seed=seed", "seed=1")
    assert nbtools.code_cells(nb) != nbtools.code_cells(src)


def _sanitize(text: str) -> str:
    """What nbval does with the sanitize file (its own parser, patterns in order)."""
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns((REFS / "sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_sanitizer_masks_noise_keeps_conclusions():
    a = "AUC **0.8123** [0.77, 0.85] on cuda:0 in 12.3 s, /tmp/x/cache/m.pt; gradient saliency beats the random map"
    b = "AUC **0.8169** [0.77, 0.85] on cpu in 3 s, /home/ci/run/cache/m.pt; gradient saliency beats the random map"
    assert _sanitize(a) == _sanitize(b)
    # what the conclusions say must still be compared: a different verdict or a number that
    # moved at the printed precision fails
    assert _sanitize(a) != _sanitize(a.replace("beats", "does not beat"))
    assert _sanitize(a) != _sanitize(a.replace("0.8123", "0.8323"))
    assert _sanitize("simulates in 1.0-4.2 s at this size") == _sanitize("simulates in 0.9-3.1 s at this size")
    assert _sanitize("0.2 ms to 1.90 s, a factor 178") == _sanitize("0.1 ms to 1.49 s, a factor 240")
    assert (_sanitize("- **Cost:** from 0.3 ms per sample (input_x_gradient) to 1.90 s (easypeasi), a factor 178.\n- next")
            == _sanitize("- **Cost:** from 0.2 ms per sample (gradient) to 1.49 s (easypeasi), a factor 240.\n- next"))
    assert _sanitize("fit eegnet:  40%|████      | 4/10 [00:01<00:02]") == "PROGRESS"
