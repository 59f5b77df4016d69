"""Controls every comparison of maps needs: chance, the oracle, and degenerate-map counts.

- :func:`random_map`: uniform noise, what chance looks like (AUC ~ 0.5).
- :func:`oracle_map`: the truth used as a map, the best any map can localise (AUC = 1).
- :func:`shuffled_map`: each sample's elements permuted independently; keeps a map's value
  distribution but destroys its placement (a shuffled oracle scores chance).
- :func:`degenerate` / :func:`degenerate_summary`: constant or non-finite maps, which rank
  nothing; they are counted and shown, never replaced by a random ranking.

Hand-written (a few lines of numpy).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from eegnb.metrics.ranking import row_degenerate


def random_map(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Uniform [0, 1) maps of ``shape`` (e.g. ``(n, ch, t)``), float32, fixed by ``seed``."""
    return np.random.default_rng(seed).random(tuple(int(s) for s in shape)).astype(np.float32)


def oracle_map(truth: np.ndarray) -> np.ndarray:
    """The truth ``(n, ...)`` (weights in [0, 1] or boolean) as a float32 map."""
    t = np.asarray(truth)
    if not (np.issubdtype(t.dtype, np.number) or t.dtype == bool):
        raise ValueError(f"truth must be numeric or boolean, got dtype {t.dtype}")
    return t.astype(np.float32)


def shuffled_map(maps: np.ndarray, seed: int = 0) -> np.ndarray:
    """Copy of ``maps (n, ...)`` with each sample's elements permuted independently (seeded)."""
    m = np.asarray(maps)
    if m.ndim < 2:
        raise ValueError(f"maps must have shape (n, ...), got {m.shape}")
    flat = np.random.default_rng(seed).permuted(m.reshape(len(m), -1), axis=1)
    return flat.reshape(m.shape)


def degenerate(maps: np.ndarray) -> np.ndarray:
    """``(n,)`` True where a sample's map is constant (max == min) or holds NaN/inf."""
    m = np.asarray(maps, dtype=float)
    if m.ndim < 2:
        raise ValueError(f"maps must have shape (n, ...), got {m.shape}")
    return row_degenerate(m.reshape(len(m), -1))


def degenerate_summary(maps: np.ndarray) -> dict:
    """``{"n_degenerate", "share", "n"}`` of :func:`degenerate` over the samples of ``maps``."""
    d = degenerate(maps)
    n = int(len(d))
    return dict(n_degenerate=int(d.sum()), share=float(d.mean()) if n else float("nan"), n=n)
