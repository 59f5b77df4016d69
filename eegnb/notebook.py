"""Notebook conventions: one ``setup()`` call, figures saved by name, numbers recorded for tests.

``nb = setup("11", seed=seed, device=device, fig_dir=fig_dir, cache_dir=cache_dir, quick=quick)``
seeds every generator, applies the shared plot style and returns a :class:`Notebook` with
``nb.savefig(fig, "channel-reduction")`` (writes ``<fig_dir>/11-channel-reduction.png``)
and ``nb.record("acc", 0.91)``. Recorded values are shown in the notebook and embedded in
its output under the MIME type ``application/vnd.eegnb.record+json``, where
:func:`read_records` finds them in an executed notebook (after recommenders'
``store_metadata``/``read_notebook``). Walked through in ``notebooks/00_template``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eegnb.utils import get_device, seed_everything

RECORD_MIME = "application/vnd.eegnb.record+json"


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "to_dict") and hasattr(v, "columns"):  # DataFrame
        return _jsonable(v.to_dict(orient="index"))
    if hasattr(v, "to_dict"):  # Series
        return _jsonable(v.to_dict())
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item") and callable(v.item):  # torch scalar
        return v.item()
    return v


def record(key: str, value: Any) -> None:
    """Show ``key = value`` and embed it in the notebook output for tests to read back."""
    from IPython.display import display

    val = _jsonable(value)
    text = json.dumps(val) if not isinstance(val, str) else val
    if len(text) > 300:
        text = text[:300] + " ..."
    display({RECORD_MIME: {key: val}, "text/plain": f"{key} = {text}"}, raw=True)


def read_records(path: str | Path) -> dict[str, Any]:
    """All values recorded by :func:`record` in an executed notebook, by key."""
    nb = json.loads(Path(path).read_text())
    out: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if RECORD_MIME in data:
                out.update(data[RECORD_MIME])
    return out


def use_style() -> None:
    """Apply the workbook's matplotlib style (Agg-safe)."""
    import matplotlib.pyplot as plt

    plt.style.use(str(Path(__file__).parent / "mplstyle" / "eegnb.mplstyle"))


@dataclass
class Notebook:
    """Context of one notebook run: its number, paths, seed, device and size."""

    number: str
    seed: int = 0
    device: str = "cpu"
    fig_dir: Path = Path("../figures")
    cache_dir: Path | None = Path("../.cache")
    quick: bool = False
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    started: float = field(default_factory=time.time)

    def savefig(self, fig, slug: str, **kw) -> Path:
        """Save ``fig`` as ``<fig_dir>/<number>-<slug>.png`` and return the path."""
        self.fig_dir.mkdir(parents=True, exist_ok=True)
        path = self.fig_dir / f"{self.number}-{slug}.png"
        fig.savefig(path, **kw)
        return path

    def record(self, key: str, value: Any) -> None:
        """See :func:`record`."""
        record(key, value)

    def elapsed(self) -> float:
        """Seconds since :func:`setup`."""
        return time.time() - self.started


def setup(
    number: str,
    *,
    seed: int = 0,
    device: str = "auto",
    fig_dir: str | Path = "../figures",
    cache_dir: str | Path | None = "../.cache",
    quick: bool = False,
) -> Notebook:
    """Seed everything, set the plot style and return the notebook's :class:`Notebook`."""
    rng = seed_everything(seed)
    use_style()
    try:
        import torch

        torch.use_deterministic_algorithms(False)
    except Exception:  # pragma: no cover
        pass
    dev = str(get_device(device))
    return Notebook(
        number=str(number),
        seed=seed,
        device=dev,
        fig_dir=Path(fig_dir),
        cache_dir=None if cache_dir in (None, "") else Path(cache_dir),
        quick=bool(quick),
        rng=rng,
    )
