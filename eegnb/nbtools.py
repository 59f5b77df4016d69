"""Notebook hygiene and the tools that keep every notebook's companions in step.

``python -m eegnb.nbtools COMMAND NOTEBOOK...``:

- ``strip``: clear outputs and execution counts (committed notebooks are stripped).
- ``check``: report notebooks that break the conventions (exactly one ``parameters`` cell holding
  plain literals with the shared names).
- ``params``: rewrite the parameters cell to the interactive-safe form (``fig_dir = None``,
  ``fig_format = "png"``) and pass ``fig_format`` to ``setup()`` (idempotent).
- ``mark``: put ``# NBVAL_CHECK_OUTPUT`` on the cells that print the recorded conclusions
  (``nb.report``), so ``pytest --nbval-lax`` verifies them (idempotent).
- ``twin``: write the plain-text twin ``notebooks/py/<name>.py`` (jupytext percent format, the
  settings of the repository's ``jupytext.toml``) from the notebook, which stays the source.
- ``sync``: ``params`` + ``mark`` + ``strip`` + ``twin``: what ``make sync-notebooks`` runs.
- ``refs``: execute each notebook at quick size into its nbval reference ``tests/nbval/<name>.ipynb``
  (``make nbval-refs``).
- ``book``: stage the book sources (README as landing page, executed notebooks, their figures)
  for Sphinx (``make book``).

Hand-written here: the cell rewrites (no tool rewrites papermill parameters cells) and the book
staging; jupytext, papermill, nbval and Sphinx/myst-nb do the rest.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SHARED_PARAMETERS = ("dataset", "data_dir", "quick", "seed", "device", "cache_dir", "fig_dir", "fig_format")
FIG_DIR_LINE = 'fig_dir = None  # None: an interactive run, figures in runs/interactive/figures; make figures passes figures/'
FIG_FORMAT_LINE = 'fig_format = "png"  # "pdf" or "svg" (or "png,pdf"): 300-dpi vector files for publication'
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
TWIN_DIR = "py"  # notebooks/py/<name>.py, as jupytext.toml pairs them
NBVAL_DIR = ROOT / "tests" / "nbval"


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


# ------------------------------------------------------------------ cell rewrites (params, mark)


def _params_cell(nb, path) -> nbformat.NotebookNode:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: {len(cells)} cells tagged 'parameters' (want exactly 1)")
    return cells[0]


_SETUP_CALL = re.compile(r"\bsetup\(")


def rewrite_parameters(nb: nbformat.NotebookNode, path: str | Path = "notebook") -> bool:
    """Interactive-safe parameters, in place: ``fig_dir = None``, a ``fig_format = "png"`` line after
    it, and ``fig_format=fig_format`` passed to ``setup(...)``. Returns whether anything changed.

    Raises ValueError when the parameters cell has no ``fig_dir`` line or no code cell calls
    ``setup(`` with ``fig_dir=fig_dir`` (the convention this rewrite relies on).
    """
    cell = _params_cell(nb, path)
    lines = cell.source.split("\n")
    i_dir = [i for i, ln in enumerate(lines) if re.match(r"fig_dir\s*=", ln)]
    if len(i_dir) != 1:
        raise ValueError(f"{path}: the parameters cell needs exactly one `fig_dir = ...` line")
    lines[i_dir[0]] = FIG_DIR_LINE
    if not any(re.match(r"fig_format\s*=", ln) for ln in lines):
        lines.insert(i_dir[0] + 1, FIG_FORMAT_LINE)
    new = "\n".join(lines)
    changed = new != cell.source
    cell.source = new
    calls = [c for c in nb.cells if c.cell_type == "code" and _SETUP_CALL.search(c.source) and "fig_dir=fig_dir" in c.source]
    if not calls:
        raise ValueError(f"{path}: no code cell calls setup(..., fig_dir=fig_dir, ...)")
    for c in calls:
        if "fig_format=" not in c.source:
            c.source = c.source.replace("fig_dir=fig_dir", "fig_dir=fig_dir, fig_format=fig_format", 1)
            changed = True
    return changed


def mark_checked(nb: nbformat.NotebookNode) -> bool:
    """Start every code cell that calls ``nb.report(`` with ``# NBVAL_CHECK_OUTPUT``, in place.

    Those cells print the recorded conclusions; ``pytest --nbval-lax`` compares their output with
    the reference copy's. A cell already marked ``# NBVAL_IGNORE_OUTPUT`` or ``# NBVAL_SKIP`` (say,
    a conclusion that names which method ran faster) is left as it is. Returns whether anything
    changed.
    """
    changed = False
    for c in nb.cells:
        if (c.cell_type == "code" and "nb.report(" in c.source and CHECK_MARKER not in c.source
                and "# NBVAL_IGNORE_OUTPUT" not in c.source and "# NBVAL_SKIP" not in c.source):
            c.source = f"{CHECK_MARKER}\n{c.source}"
            changed = True
    return changed


def _edit(path: str | Path, fn) -> bool:
    nb = nbformat.read(str(path), as_version=4)
    changed = fn(nb)
    if changed:
        nbformat.write(nb, str(path))
    return changed


# ------------------------------------------------------------------ plain-text twins (jupytext)


def twin_path(path: str | Path) -> Path:
    """``notebooks/py/<name>.py`` for ``notebooks/<name>.ipynb``."""
    path = Path(path)
    return path.parent / TWIN_DIR / f"{path.stem}.py"


def _jupytext_config():
    from jupytext.config import load_jupytext_config

    return load_jupytext_config(str(ROOT / "jupytext.toml"))


def twin_text(path: str | Path) -> str:
    """The jupytext percent-format text of the notebook at ``path`` (its twin's expected content)."""
    import jupytext

    nb = jupytext.read(str(path))
    return jupytext.writes(nb, fmt="py:percent", config=_jupytext_config())


def write_twin(path: str | Path) -> bool:
    """Write :func:`twin_path` from the notebook; returns whether the file changed."""
    out, text = twin_path(path), twin_text(path)
    if out.exists() and out.read_text() == text:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return True


def sync(path: str | Path) -> list[str]:
    """``params``, ``mark``, ``strip`` and ``twin`` on one notebook; names the steps that changed it."""
    done = []
    if _edit(path, lambda nb: rewrite_parameters(nb, path)):
        done.append("params")
    if _edit(path, mark_checked):
        done.append("mark")
    before = Path(path).read_bytes()
    strip(path)
    if Path(path).read_bytes() != before:
        done.append("strip")
    if write_twin(path):
        done.append("twin")
    return done


# ------------------------------------------------------------------ nbval reference copies

INJECTED_TAG = "injected-parameters"
REF_INJECTED = '''# Parameters of the nbval reference run (quick size), written by `make nbval-refs`.
# The kernel starts in tests/nbval/; run from notebooks/ as papermill does. The test session
# points cache and figures at its own folders (tests/nbval/conftest.py), shared with the
# papermill runs of tests/test_notebooks.py so models trained once are loaded from cache.
import os

os.chdir(os.environ.get("EEGNB_NOTEBOOK_DIR", "../../notebooks"))
quick = True
cache_dir = os.environ.get("EEGNB_QUICK_CACHE", "../.cache")
fig_dir = os.environ.get("EEGNB_QUICK_FIGURES", "../runs/quick/figures")'''
_BINARY_MIME = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")
_WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def code_cells(path_or_nb) -> list[str]:
    """Sources of the code cells, papermill's injected-parameters cell left out."""
    nb = path_or_nb if isinstance(path_or_nb, dict) else nbformat.read(str(path_or_nb), as_version=4)
    return [c.source for c in nb.cells
            if c.cell_type == "code" and INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]


def make_reference(executed: str | Path, out: str | Path) -> None:
    """The nbval reference from a quick-size papermill run: injected cell made portable
    (:data:`REF_INJECTED`), images, widgets and run metadata dropped (nbval compares text only,
    and the reference stays small)."""
    nb = nbformat.read(str(executed), as_version=4)
    for c in nb.cells:
        c.metadata.pop("papermill", None)
        c.metadata.pop("execution", None)
        if c.cell_type != "code":
            continue
        if INJECTED_TAG in c.metadata.get("tags", []):
            c.source = REF_INJECTED
        for o in c.outputs:
            data = o.get("data")
            if data:
                for k in (*_BINARY_MIME, _WIDGET_MIME):
                    data.pop(k, None)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))


def refs(paths: list[str | Path], *, work: str | Path | None = None, out_dir: str | Path = NBVAL_DIR) -> dict[str, str | None]:
    """Execute each notebook at quick size (papermill, one shared cache) and write its reference
    ``tests/nbval/<name>.ipynb``; ``{name: None or error}``."""
    import tempfile

    from eegnb.figures import execute_notebook

    work = Path(work or tempfile.mkdtemp(prefix="eegnb-refs-"))
    params = dict(quick=True, cache_dir=str(work / "cache"), fig_dir=str(work / "figures"))
    res: dict[str, str | None] = {}
    for p in map(Path, paths):
        executed = work / "runs" / p.name
        err = execute_notebook(p, executed, params)
        res[p.name] = err
        if err is None:
            make_reference(executed, Path(out_dir) / p.name)
        print(f"{'ok' if err is None else 'FAILED':6s} {p.name}" + (f": {err}" if err else ""), flush=True)
    return res


# ------------------------------------------------------------------ the book (Sphinx + myst-nb)


def book_sources(name: str, root: Path = ROOT) -> tuple[Path, Path | None]:
    """Where the book takes notebook ``name``'s executed copy and figures from, best first:
    ``runs/default`` (with ``figures/``), ``runs/quick`` (with ``runs/quick/figures``), the nbval
    reference (with ``figures/``), else the stripped source (with ``figures/``)."""
    for nb_dir, fig_dir in ((root / "runs" / "default", root / "figures"),
                            (root / "runs" / "quick", root / "runs" / "quick" / "figures"),
                            (root / "tests" / "nbval", root / "figures"),
                            (root / "notebooks", root / "figures")):
        if (nb_dir / name).exists():
            return nb_dir / name, fig_dir if fig_dir.is_dir() else None
    raise FileNotFoundError(f"no copy of {name} in runs/, tests/nbval/ or notebooks/")


def stage_book(out: str | Path, *, root: Path = ROOT, prefer: str | None = None) -> list[Path]:
    """Write the book's sources to ``out``: ``index.md`` (the README plus a table of contents),
    ``notebooks/<name>.ipynb`` (executed copies, each with a gallery of its figures after the
    title cell) and ``figures/``. ``prefer="refs"`` takes the nbval references (CI). Returns the
    staged notebooks."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    (out / "figures").mkdir()
    names = sorted(p.name for p in (root / "notebooks").glob("*.ipynb") if p.name[:2].isdigit())
    staged = []
    for name in names:
        src, fig_dir = ((root / "tests" / "nbval" / name, root / "figures") if prefer == "refs"
                        and (root / "tests" / "nbval" / name).exists() else book_sources(name, root))
        nb = nbformat.read(str(src), as_version=4)
        nb.metadata.pop("widgets", None)
        for c in nb.cells:
            for o in c.get("outputs", []):
                o.get("data", {}).pop(_WIDGET_MIME, None)
        prefix = name.split("_")[0]
        figs = sorted(fig_dir.glob(f"{prefix}-*.png")) if fig_dir else []
        for f in figs:
            shutil.copy2(f, out / "figures" / f.name)
        if figs:
            gallery = "\n\n".join(f"![{f.stem}](../figures/{f.name})" for f in figs)
            where = "default size" if fig_dir == root / "figures" else "quick size"
            nb.cells.insert(1, nbformat.v4.new_markdown_cell(
                f"**Figures this notebook writes** ({where}, `{prefix}-*.png`):\n\n{gallery}"))
        nbformat.write(nb, str(out / "notebooks" / name))
        staged.append(out / "notebooks" / name)
    readme = (root / "README.md").read_text()
    toc = "\n".join(f"notebooks/{Path(n).stem}" for n in names)
    (out / "index.md").write_text(f"{readme}\n\n```{{toctree}}\n:maxdepth: 1\n:caption: Notebooks\n\n{toc}\n```\n")
    return staged


def build_book(out: str | Path = ROOT / "build" / "book", *, prefer: str | None = None) -> Path:
    """Stage and build the HTML book with Sphinx (myst-nb renders the stored outputs, executes
    nothing); returns ``out/html/index.html``. Raises RuntimeError naming the Sphinx errors."""
    import subprocess

    out = Path(out)
    stage_book(out / "src", prefer=prefer)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(ROOT / "docs" / "book"),
           str(out / "src"), str(out / "html")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"sphinx-build failed ({r.returncode}):\n{r.stderr[-3000:]}")
    if r.stderr.strip():
        print(r.stderr[-3000:], file=sys.stderr)
    return out / "html" / "index.html"


# ------------------------------------------------------------------ command line

COMMANDS = ("strip", "check", "params", "mark", "twin", "sync", "refs", "book")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS or (argv[0] != "book" and len(argv) < 2):
        print(f"usage: python -m eegnb.nbtools {'|'.join(COMMANDS)} NOTEBOOK...   (book: [--refs] [OUT])",
              file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "book":
        prefer = "refs" if "--refs" in args else None
        rest = [a for a in args if a != "--refs"]
        index = build_book(*(rest[:1] or [ROOT / "build" / "book"]), prefer=prefer)
        print(f"book: {index}")
        return 0
    if cmd == "refs":
        res = refs(args)
        return 1 if any(res.values()) else 0
    bad = 0
    for p in args:
        try:
            if cmd == "strip":
                strip(p)
            elif cmd == "check":
                parameters(p)
            elif cmd == "params":
                print(p, "changed" if _edit(p, lambda nb, p=p: rewrite_parameters(nb, p)) else "unchanged")
            elif cmd == "mark":
                print(p, "changed" if _edit(p, mark_checked) else "unchanged")
            elif cmd == "twin":
                print(twin_path(p), "written" if write_twin(p) else "unchanged")
            elif cmd == "sync":
                print(p, ", ".join(sync(p)) or "unchanged")
        except ValueError as e:
            print(e)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
