"""Notebook hygiene: strip outputs before committing, check the house conventions.

``python -m eegnb.nbtools strip notebooks/*.ipynb`` clears outputs and execution counts.
``python -m eegnb.nbtools check notebooks/*.ipynb`` reports notebooks that break the
conventions (exactly one ``parameters`` cell holding plain literals with the shared names).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat

SHARED_PARAMETERS = ("dataset", "data_dir", "quick", "seed", "device", "cache_dir", "fig_dir")


def strip(path: str | Path) -> None:
    """Clear every code cell's outputs and execution count, in place."""
    nb = nbformat.read(str(path), as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
            c.execution_count = None
        c.metadata.pop("execution", None)
        c.metadata.pop("papermill", None)
    nb.metadata.pop("papermill", None)
    nbformat.write(nb, str(path))


def parameters(path: str | Path) -> dict:
    """The literal values of the notebook's single ``parameters`` cell (ValueError otherwise)."""
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: {len(cells)} cells tagged 'parameters' (want exactly 1)")
    out = {}
    for node in ast.parse(cells[0].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{path}: the parameters cell may only hold `name = literal` lines")
        try:
            out[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError as e:
            raise ValueError(f"{path}: parameter {node.targets[0].id} is not a plain literal") from e
    missing = [p for p in SHARED_PARAMETERS if p not in out]
    if missing:
        raise ValueError(f"{path}: parameters cell lacks {missing}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("strip", "check"):
        print("usage: python -m eegnb.nbtools strip|check NOTEBOOK...", file=sys.stderr)
        return 2
    bad = 0
    for p in argv[1:]:
        if argv[0] == "strip":
            strip(p)
        else:
            try:
                parameters(p)
            except ValueError as e:
                print(e)
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def build(path: str | Path, cells: list[tuple[str, str]]) -> None:
    """Write a notebook from ``[(kind, source), ...]`` with kind ``"md"``, ``"code"`` or ``"params"``.

    The ``"params"`` cell gets the papermill ``parameters`` tag. Outputs start empty.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, src in cells:
        src = src.strip("\n")
        if kind == "md":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif kind in ("code", "params"):
            c = nbformat.v4.new_code_cell(src)
            if kind == "params":
                c.metadata["tags"] = ["parameters"]
            nb.cells.append(c)
        else:
            raise ValueError(f"cell kind must be md, code or params, got {kind!r}")
    for i, c in enumerate(nb.cells):  # stable ids keep diffs small
        c["id"] = f"{Path(path).stem[:2]}-{i:02d}"
    nbformat.write(nb, str(path))
