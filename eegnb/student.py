"""Student versions of the notebooks: solution cells become stubs (``make student``).

The exercise convention (docs/ARCHITECTURE.md, "Exercises"): at the end of a notebook a
markdown cell ``## Exercises``, then per exercise one markdown cell tagged ``exercise`` (the
task and "Predict before you run: ...") followed by one code cell tagged ``solution``. Nothing
after the first solution cell may be untagged code, so a student can run every cell up to the
first stub. :func:`student_version` replaces each solution by
``raise NotImplementedError("Exercise N: <first line of the exercise>")`` and removes every
output; :func:`check_exercises` lists the ways a notebook breaks the convention.

``python -m eegnb.student [--out student] notebooks/*.ipynb`` writes ``student/<name>.ipynb``
(the folder is git-ignored and sits beside ``notebooks/``, so relative paths still resolve).
``python -m eegnb.student --check notebooks/*.ipynb`` only checks. Hand-written (a few lines of
nbformat): nbgrader does this with its own markers and a database, more than a workbook needs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

EXERCISE_TAG, SOLUTION_TAG = "exercise", "solution"


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_title(markdown: str, max_len: int = 100) -> str:
    """First non-empty line of an exercise cell without markdown markers (``#``, ``**``, ``_``)."""
    for line in markdown.splitlines():
        line = re.sub(r"^\s*#+\s*", "", line)
        line = line.replace("**", "").replace("__", "").strip(" *_-")
        if line:
            return line if len(line) <= max_len else line[: max_len - 3].rstrip() + "..."
    return ""


def stub_source(n: int, title: str) -> str:
    """The code of exercise ``n``'s stub."""
    title = re.sub(r"^Exercise\s*\d*\s*[.:)-]?\s*", "", title, flags=re.I)  # no "Exercise 1: Exercise 1."
    msg = f"Exercise {n}: {title}" if title else f"Exercise {n}"
    return f"# Your solution of exercise {n} here.\nraise NotImplementedError({msg!r})"


def check_exercises(nb_or_path) -> list[str]:
    """Convention breaks of one notebook (empty list: fine, also when it has no exercises).

    Checked: every ``solution`` cell follows an ``exercise`` markdown cell directly; every
    ``exercise`` cell is followed by a ``solution`` cell; an ``## Exercises`` heading comes
    before the first exercise; each exercise asks for a prediction ("Predict ..."); no untagged
    code cell after the first solution; solutions record nothing (``nb.record``/``record_ci``)
    and save no figure (``savefig``).
    """
    nb = nbformat.read(str(nb_or_path), as_version=4) if isinstance(nb_or_path, (str, Path)) else nb_or_path
    cells = nb.cells
    problems = []
    first_sol = next((i for i, c in enumerate(cells) if SOLUTION_TAG in _tags(c)), None)
    first_ex = next((i for i, c in enumerate(cells) if EXERCISE_TAG in _tags(c)), None)
    if first_ex is not None and not any(
        c.cell_type == "markdown" and re.search(r"^#+\s*Exercises\b", c.source, re.M) for c in cells[:first_ex + 1]
    ):
        problems.append(f"cell {first_ex}: no '## Exercises' heading before the first exercise")
    for i, c in enumerate(cells):
        tags = _tags(c)
        if SOLUTION_TAG in tags:
            if c.cell_type != "code":
                problems.append(f"cell {i}: tagged solution but is {c.cell_type}")
            prev = cells[i - 1] if i else None
            if prev is None or prev.cell_type != "markdown" or EXERCISE_TAG not in _tags(prev):
                problems.append(f"cell {i}: solution cell not directly after an 'exercise' markdown cell")
            if re.search(r"\bnb\.(record|record_ci|report|savefig)\(|\bsavefig\(", c.source):
                problems.append(f"cell {i}: a solution must record nothing and save no figure")
        if EXERCISE_TAG in tags:
            if c.cell_type != "markdown":
                problems.append(f"cell {i}: tagged exercise but is {c.cell_type}")
            nxt = cells[i + 1] if i + 1 < len(cells) else None
            if nxt is None or nxt.cell_type != "code" or SOLUTION_TAG not in _tags(nxt):
                problems.append(f"cell {i}: exercise cell not followed by a 'solution' code cell")
            if not re.search(r"\bpredict", c.source, re.I):
                problems.append(f"cell {i}: exercise asks for no prediction ('Predict before you run: ...')")
        if (first_sol is not None and i > first_sol and c.cell_type == "code"
                and SOLUTION_TAG not in tags):
            problems.append(f"cell {i}: untagged code after the first solution cell (cell {first_sol}); "
                            "students stop at the first stub, so it would never run")
    return problems


def student_version(nb):
    """A copy of ``nb`` with every solution cell a stub and every output removed; ``(nb, n_exercises)``."""
    nb = nbformat.from_dict(nb)  # deep copy
    n = 0
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
        if SOLUTION_TAG in _tags(c):
            n += 1
            prev = nb.cells[i - 1] if i else None
            title = exercise_title(prev.source) if prev is not None and EXERCISE_TAG in _tags(prev) else ""
            c.source = stub_source(n, title)
        c.metadata.pop("execution", None)
        c.metadata.pop("papermill", None)
    nb.metadata.pop("papermill", None)
    return nb, n


def write_student(src: str | Path, out_dir: str | Path) -> tuple[Path, int]:
    """Write ``out_dir/<src name>`` as the student version of ``src``; ``(path, n_exercises)``.

    Raises ValueError when ``src`` breaks the exercise convention (:func:`check_exercises`).
    """
    src = Path(src)
    nb = nbformat.read(str(src), as_version=4)
    problems = check_exercises(nb)
    if problems:
        raise ValueError(f"{src}: " + "; ".join(problems))
    student, n = student_version(nb)
    out = Path(out_dir) / src.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(student, str(out))
    return out, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eegnb.student", description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--out", default="student", help="folder of the student versions (default: student)")
    ap.add_argument("--check", action="store_true", help="only check the exercise convention")
    a = ap.parse_args(argv)
    bad = 0
    for p in a.notebooks:
        if a.check:
            for prob in check_exercises(p):
                print(f"{p}: {prob}")
                bad += 1
            continue
        try:
            out, n = write_student(p, a.out)
        except ValueError as e:
            print(e, file=sys.stderr)
            bad += 1
            continue
        print(f"{out}: {n} exercise{'s' if n != 1 else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
