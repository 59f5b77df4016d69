"""Progress bars that suit where the code runs: ``from eegnb.progress import tqdm``.

A drop-in for ``tqdm.auto.tqdm`` (same arguments) that picks the bar by context:

- a Jupyter kernel with a person at it (JupyterLab, VS Code): the widget bar of
  ``tqdm.notebook`` (needs ``ipywidgets``, a dependency);
- a terminal (stderr is a TTY): the plain text bar;
- anything else (papermill runs of ``make figures`` / the tests, CI logs, ``> log.txt``): batch
  mode. Inside a batch-run kernel the bar is off, so executed notebooks (nbval references, the
  book) hold no progress output; in a plain process writing to a file or pipe, the text bar
  redraws at most every ``BATCH_INTERVAL`` seconds so logs get a few lines, not thousands.

``EEGNB_PROGRESS`` overrides the choice: ``widget``, ``text``, ``log`` (text, low frequency),
``off``; ``auto`` or unset picks as above. :func:`eegnb.figures.execute_notebook` sets
``EEGNB_PROGRESS=off`` for the kernels it starts (unless already set), which is how a kernel
knows it is a batch run (papermill kernels look like any other Jupyter kernel).

Hand-written here: only the choice; the bars are tqdm's.
"""

from __future__ import annotations

import os
import sys
from typing import Any

MODES = ("auto", "widget", "text", "log", "off")
BATCH_INTERVAL = 30.0  # seconds between redraws of a bar written to a log


def _in_kernel() -> bool:
    if "ipykernel.zmqshell" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        return type(get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:  # pragma: no cover
        return False


def _isatty() -> bool:
    try:
        return sys.stderr.isatty()
    except Exception:  # pragma: no cover
        return False


def mode() -> str:
    """The bar this process uses now: ``"widget"``, ``"text"``, ``"log"`` or ``"off"``."""
    m = os.environ.get("EEGNB_PROGRESS", "auto").strip().lower() or "auto"
    if m not in MODES:
        raise ValueError(f"EEGNB_PROGRESS must be one of {MODES}, got {m!r}")
    if m != "auto":
        return m
    if _in_kernel():
        return "widget"
    return "text" if _isatty() else "log"


def tqdm(*args: Any, **kw: Any):
    """A tqdm bar (same signature as ``tqdm.auto.tqdm``) of the kind :func:`mode` picks."""
    m = mode()
    if m == "off":
        kw["disable"] = True
    if m == "widget":
        try:
            from tqdm.notebook import IProgress
            from tqdm.notebook import tqdm as bar

            if IProgress is None:  # no ipywidgets: text bar instead of tqdm's warning
                from tqdm.std import tqdm as bar
        except ImportError:  # pragma: no cover
            from tqdm.std import tqdm as bar
        return bar(*args, **kw)
    from tqdm.std import tqdm as bar

    if m == "log":
        kw.setdefault("mininterval", BATCH_INTERVAL)
        kw.setdefault("maxinterval", max(BATCH_INTERVAL, kw["mininterval"]))
    return bar(*args, **kw)


def trange(*args: Any, **kw: Any):
    """``tqdm(range(*args), **kw)``."""
    return tqdm(range(*args), **kw)
