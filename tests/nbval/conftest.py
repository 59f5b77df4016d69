"""nbval runs of the reference copies share one quick folder with the papermill runs.

Imported when pytest collects tests/nbval/ (before any kernel starts): the reference copies'
parameters cell reads ``EEGNB_QUICK_CACHE`` / ``EEGNB_QUICK_FIGURES`` (see
``eegnb.nbtools.REF_INJECTED``), and ``tests/conftest.py``'s ``quick_dirs`` takes
``EEGNB_QUICK_DIR``, so a model trained by one run is loaded from cache by the other instead of
trained twice. Progress bars are off in these kernels (``eegnb.progress``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

if not os.environ.get("EEGNB_QUICK_DIR"):
    _base = Path(tempfile.mkdtemp(prefix="eegnb-quick-"))
    os.environ["EEGNB_QUICK_DIR"] = str(_base)
    atexit.register(shutil.rmtree, _base, ignore_errors=True)
_base = Path(os.environ["EEGNB_QUICK_DIR"])
for _d in ("cache", "figures", "runs"):
    (_base / _d).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("EEGNB_QUICK_CACHE", str(_base / "cache"))
os.environ.setdefault("EEGNB_QUICK_FIGURES", str(_base / "figures"))
os.environ.setdefault("EEGNB_NOTEBOOK_DIR", str(Path(__file__).resolve().parents[2] / "notebooks"))
os.environ.setdefault("EEGNB_PROGRESS", "off")
os.environ.setdefault("MPLBACKEND", "Agg")
