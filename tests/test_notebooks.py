"""Every notebook follows the house conventions and runs top to bottom in quick mode."""

from __future__ import annotations

import json
import re

import pytest

from eegnb.figures import discover
from eegnb.nbtools import parameters
from eegnb.stats import compare, format_ci

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


# ------------------------------------------------------------------ numbers in prose come from the run

CONCLUSION_HEADINGS = ("what we saw", "what the numbers say", "what we see")
_RUN_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+|\d+(?:\.\d+)?\s?%|\d+(?:\.\d+)?e-?\d+)(?![\w.])")


def conclusion_numbers(nb: dict) -> list[str]:
    """Lines of markdown under a conclusions heading that hold a decimal, percentage or
    scientific number without citing the paper on the same line (code spans excluded)."""
    bad, level = [], None  # level: heading level of the open conclusions section
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        fenced = False
        for line in "".join(cell["source"]).splitlines():
            if line.strip().startswith("```"):
                fenced = not fenced
                continue
            head = re.match(r"^(#+)\s+(.*)", line)
            if head and not fenced:
                n = len(head.group(1))
                if any(h in head.group(2).lower() for h in CONCLUSION_HEADINGS):
                    level = n
                elif level is not None and n <= level:
                    level = None
                continue
            text = re.sub(r"`[^`]*`", "", line)
            if level is not None and not fenced and "paper" not in text.lower() and _RUN_NUMBER.search(text):
                bad.append(line.strip())
    return bad


def test_conclusion_lint_catches_typed_numbers():
    md = lambda s: {"cell_type": "markdown", "source": [s]}  # noqa: E731
    nb = {"cells": [md("## Method\nlr 0.01 here is fine"),
                    md("## What we saw\n- accuracy 0.93 over folds\n- the paper reports 0.91\n- `lr=0.1`, 4 of 5\n- 61 % on channels"),
                    md("### detail\n- AUC 0.59"), md("## Paper scale\n200 epochs, lr 0.1")]}
    assert conclusion_numbers(nb) == ["- accuracy 0.93 over folds", "- 61 % on channels", "- AUC 0.59"]


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_conclusions_type_no_run_numbers(path):
    """A conclusion's numbers are rendered by ``nb.report`` from the run; markdown keeps only the
    explanation and the papers' values (on a line that says "paper")."""
    bad = conclusion_numbers(json.loads(path.read_text()))
    assert not bad, f"{path.name}: numbers typed in a conclusions cell (move them into nb.report): {bad}"


@pytest.mark.notebook
def test_report_prints_the_runs_numbers(run_notebook, quick_dirs):
    """The quickstart's rendered conclusion shows the numbers its quick run recorded."""
    r = run_notebook("01_quickstart")  # already run by the suite: no extra cost
    assert r["report"], "01_quickstart recorded no report"
    runs = sorted((quick_dirs / "runs").glob("01_quickstart-*.ipynb"))
    printed = "\n".join("".join(o.get("data", {}).get("text/markdown", ""))
                        for c in json.loads(runs[0].read_text())["cells"] if c["cell_type"] == "code"
                        for o in c.get("outputs", []))
    assert printed.strip() == "\n".join(r["report"]).strip()
    assert f"{r['test_acc']:.2f}" in printed and f"{r['test_macro_f1']:.2f}" in printed
    assert format_ci(r["gradient_auc_ci"]) in printed and format_ci(r["random_auc_ci"]) in printed
    verdict = compare(r["gradient_auc_ci"], r["random_auc_ci"], names=("gradient saliency", "the random map"))
    assert verdict in printed
