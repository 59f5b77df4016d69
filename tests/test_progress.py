"""eegnb.progress picks a widget bar in a live notebook, a text bar in a terminal, a
low-frequency text bar in logs, and no bar in batch-run kernels (papermill, nbval)."""

from __future__ import annotations

import io

import pytest

from eegnb import progress


def test_modes_by_environment(monkeypatch):
    monkeypatch.setattr(progress, "_in_kernel", lambda: False)
    monkeypatch.delenv("EEGNB_PROGRESS", raising=False)
    monkeypatch.setattr(progress, "_isatty", lambda: True)
    assert progress.mode() == "text"
    monkeypatch.setattr(progress, "_isatty", lambda: False)
    assert progress.mode() == "log"
    monkeypatch.setattr(progress, "_in_kernel", lambda: True)
    assert progress.mode() == "widget"
    monkeypatch.setenv("EEGNB_PROGRESS", "off")  # what eegnb.figures.execute_notebook sets
    assert progress.mode() == "off"
    monkeypatch.setenv("EEGNB_PROGRESS", "bogus")
    with pytest.raises(ValueError, match="EEGNB_PROGRESS"):
        progress.mode()


def test_log_mode_writes_few_lines(monkeypatch):
    """In a log, 2000 fast steps give a handful of redraws (a terminal bar would give hundreds)."""
    monkeypatch.setenv("EEGNB_PROGRESS", "log")
    buf = io.StringIO()
    bar = progress.tqdm(range(2000), desc="steps", file=buf)
    assert bar.mininterval == progress.BATCH_INTERVAL
    assert sum(1 for _ in bar) == 2000
    assert buf.getvalue().count("\r") <= 3
    monkeypatch.setenv("EEGNB_PROGRESS", "text")
    buf = io.StringIO()
    list(progress.tqdm(range(2000), file=buf, mininterval=0, miniters=1))
    assert buf.getvalue().count("\r") > 100  # the contrast: an unthrottled bar floods


def test_off_and_widget(monkeypatch):
    monkeypatch.setenv("EEGNB_PROGRESS", "off")
    buf = io.StringIO()
    assert list(progress.trange(5, file=buf)) == [0, 1, 2, 3, 4] and buf.getvalue() == ""
    monkeypatch.setenv("EEGNB_PROGRESS", "widget")
    from tqdm.notebook import IProgress

    bar = progress.tqdm(range(3), disable=True)  # disabled: no display needed outside a kernel
    expected = "tqdm_notebook" if IProgress is not None else "tqdm"
    assert type(bar).__name__ == expected
