"""``make student``: solution cells become stubs; the solution version runs end to end, the
student version runs up to its first stub; every real notebook keeps the exercise convention."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from eegnb.student import check_exercises, exercise_title, student_version, write_student

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _cell(kind: str, src: str, *tags: str):
    c = nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
    if tags:
        c.metadata["tags"] = list(tags)
    return c


def course_notebook(extra_after: list | None = None):
    """A small notebook: parameters, two ordinary cells, a report, then two exercises."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        _cell("md", "# A tiny course notebook"),
        _cell("code", "x = 1", "parameters"),
        _cell("code", "y = x + 1\nprint('y is', y)"),
        _cell("code", "z = 10 * y\nprint('z is', z)"),
        _cell("md", "## Exercises"),
        _cell("md", "**Exercise 1.** Double `y`.\n\nPredict before you run: is it 4?", "exercise"),
        _cell("code", "assert 2 * y == 4\nprint(2 * y)", "solution"),
        _cell("md", "### Exercise 2: add x to z\n\nPredict before you run: 21?", "exercise"),
        _cell("code", "assert z + x == 21", "solution"),
    ] + (extra_after or [])
    nb.cells[-3].outputs = [nbformat.v4.new_output("stream", text="4\n")]  # a stored solution output
    return nb


def _execute(path: Path, out: Path):
    import papermill as pm

    return pm.execute_notebook(str(path), str(out), parameters={"x": 1}, kernel_name="python3",
                               progress_bar=False, cwd=str(path.parent))


@pytest.mark.notebook
def test_solution_runs_and_student_stops_at_first_stub(tmp_path):
    import papermill as pm

    src = tmp_path / "course.ipynb"
    nbformat.write(course_notebook(), str(src))
    assert check_exercises(src) == []
    _execute(src, tmp_path / "solved.ipynb")  # the solution version runs end to end

    out, n = write_student(src, tmp_path / "student")
    assert n == 2 and out == tmp_path / "student" / "course.ipynb"
    stu = nbformat.read(str(out), as_version=4)
    sols = [i for i, c in enumerate(stu.cells) if "solution" in c.metadata.get("tags", [])]
    assert sols == [6, 8]
    assert 'raise NotImplementedError("Exercise 1: Double `y`.")' in stu.cells[6].source.replace("'", '"')
    assert "Exercise 2: add x to z" in stu.cells[8].source
    assert "assert" not in stu.cells[6].source and all(not c.get("outputs") for c in stu.cells if c.cell_type == "code")
    # the original is untouched
    assert "assert 2 * y == 4" in nbformat.read(str(src), as_version=4).cells[6].source

    with pytest.raises(pm.PapermillExecutionError) as e:
        _execute(out, tmp_path / "student-run.ipynb")
    assert e.value.ename == "NotImplementedError" and "Exercise 1" in e.value.evalue
    ran = nbformat.read(str(tmp_path / "student-run.ipynb"), as_version=4)
    code = [(i, c) for i, c in enumerate(ran.cells) if c.cell_type == "code"]
    before = [c for i, c in code if i < sols[0]]
    # papermill injects a parameters cell, so locate the stub by its source, not its index
    stub = next(i for i, c in code if "NotImplementedError" in c.source)
    assert all(c.execution_count is not None for i, c in code if i < stub) and len(before) >= 3
    assert any("z is 20" in o.get("text", "") for c in before for o in c.outputs)
    assert any(o.get("ename") == "NotImplementedError" for o in ran.cells[stub].outputs)


def test_exercise_title():
    assert exercise_title("\n**Exercise 3.** Implement the area loss.\nmore") == "Exercise 3. Implement the area loss."
    assert exercise_title("## Change the epsilon\n") == "Change the epsilon"
    assert exercise_title("") == ""
    assert len(exercise_title("x" * 300)) == 100


def test_student_version_stubs_every_solution_in_order():
    nb, n = student_version(course_notebook())
    assert n == 2
    src = [c.source for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert "Exercise 1:" in src[0] and "Exercise 2:" in src[1] and all("raise NotImplementedError" in s for s in src)
    assert nb.cells[2].source == "y = x + 1\nprint('y is', y)"  # other cells unchanged


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_real_notebooks_keep_the_exercise_convention(path):
    """Vacuous for a notebook without exercises; otherwise every check of :func:`check_exercises`."""
    assert check_exercises(path) == []


@pytest.mark.parametrize("case, message", [
    ("orphan", "not directly after an 'exercise'"),
    ("untagged_after", "untagged code after the first solution"),
    ("no_solution", "not followed by a 'solution'"),
    ("no_heading", "no '## Exercises' heading"),
    ("no_predict", "asks for no prediction"),
    ("records", "record nothing"),
])
def test_check_exercises_catches_crafted_bad_notebooks(tmp_path, case, message):
    nb = course_notebook()
    if case == "orphan":  # a solution whose exercise cell was deleted
        del nb.cells[7]
    elif case == "untagged_after":
        nb.cells.append(_cell("code", "w = z + 1"))
    elif case == "no_solution":
        nb.cells.insert(7, _cell("md", "An extra note. Predict nothing.", "exercise"))
    elif case == "no_heading":
        nb.cells[4].source = "Now some exercises."
    elif case == "no_predict":
        nb.cells[5].source = "**Exercise 1.** Double `y`."
    elif case == "records":
        nb.cells[6].source += "\nnb.record('double', 2 * y)"
    p = tmp_path / "bad.ipynb"
    nbformat.write(nb, str(p))
    probs = check_exercises(p)
    assert any(message in s for s in probs), probs
    with pytest.raises(ValueError, match="bad.ipynb"):
        write_student(p, tmp_path / "student")


def test_cli_writes_and_checks(tmp_path, capsys):
    from eegnb.student import main

    src = tmp_path / "course.ipynb"
    nbformat.write(course_notebook(), str(src))
    assert main(["--out", str(tmp_path / "s"), str(src)]) == 0
    assert "2 exercises" in capsys.readouterr().out
    assert (tmp_path / "s" / "course.ipynb").exists()
    bad = course_notebook([_cell("code", "print('never runs for a student')")])
    nbformat.write(bad, str(tmp_path / "bad.ipynb"))
    assert main(["--check", str(tmp_path / "bad.ipynb")]) == 1
