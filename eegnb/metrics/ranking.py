"""Shared ranking code of every perturbation metric: tie groups, average ranks, whole-group splits.

No random tie-breaking anywhere. Elements whose scores are exactly equal form one *tie group*:
a selection of ``k`` elements either takes a group wholly or not at all (:func:`rank_select`),
and a deletion curve removes a group in one step and interpolates linearly inside it
(:func:`tie_breakpoints`). Average ranks come from ``scipy.stats.rankdata(method="average")``;
the rest is a few lines of numpy (no library offers whole-tie-group selection).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

ORDERS = {"most": "most", "least": "least", "top": "most", "bottom": "least"}


def _order(order: str) -> str:
    if order not in ORDERS:
        raise ValueError(f"order must be 'most'/'top' or 'least'/'bottom', got {order!r}")
    return ORDERS[order]


def row_degenerate(scores: np.ndarray) -> np.ndarray:
    """``(n,)`` True where a row of ``scores (n, e)`` is constant or holds a non-finite value."""
    s = np.asarray(scores, dtype=float).reshape(len(scores), -1)
    bad = ~np.isfinite(s).all(1)
    if s.shape[1] == 0:
        return np.ones(len(s), bool)
    safe = np.where(np.isfinite(s), s, 0.0)
    const = safe.max(1) == safe.min(1)
    return bad | const


def average_ranks(scores: np.ndarray, order: str = "most") -> np.ndarray:
    """Average ranks ``(n, e)`` per row, 1 = first removed (highest score for ``"most"``)."""
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2:
        raise ValueError(f"scores must have shape (n, elements), got {s.shape}")
    key = -s if _order(order) == "most" else s
    return rankdata(key, method="average", axis=1)


def rank_select(scores: np.ndarray, k: int, order: str = "most") -> np.ndarray:
    """Boolean ``(n, e)``: per row the ``k`` first-ranked elements, tie groups kept whole.

    An element is chosen when its average rank is ``<= k + 0.5``, i.e. a tie group straddling
    the cut goes wholly to the side that holds at least half of it. Rows therefore hold ``k``
    chosen elements when values are distinct and possibly more or fewer when they tie.
    """
    s = np.asarray(scores, dtype=float)
    if s.ndim != 2:
        raise ValueError(f"scores must have shape (n, elements), got {s.shape}")
    if not 0 <= k <= s.shape[1]:
        raise ValueError(f"k must be in [0, {s.shape[1]}], got {k}")
    if k == 0:
        return np.zeros(s.shape, bool)
    return average_ranks(s, order) <= k + 0.5


def sorted_positions(scores: np.ndarray, order: str = "most") -> tuple[np.ndarray, list[np.ndarray]]:
    """Removal position of each element ``(n, e)`` (0 = first) and each row's tie breakpoints.

    Breakpoints are the counts ``0 = b_0 < b_1 < ... < b_m = e`` at which a whole tie group has
    been removed. Within a group the positions are arbitrary but never matter, because
    removals only ever stop at breakpoints.
    """
    s = np.asarray(scores, dtype=float)
    key = -s if _order(order) == "most" else s
    idx = np.argsort(key, axis=1, kind="stable")
    pos = np.empty_like(idx)
    np.put_along_axis(pos, idx, np.arange(s.shape[1])[None].repeat(len(s), 0), axis=1)
    ks = np.take_along_axis(key, idx, axis=1)
    bps = []
    for row in ks:
        inner = np.flatnonzero(row[1:] != row[:-1]) + 1
        bps.append(np.concatenate([[0], inner, [len(row)]]).astype(int))
    return pos, bps


def tie_breakpoints(bp: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For real removal counts ``k (m,)``: the bracketing breakpoints ``lo <= k <= hi`` and the
    interpolation weight ``w`` so that ``f(k) = (1 - w) f(lo) + w f(hi)``."""
    k = np.asarray(k, dtype=float)
    lo = bp[np.clip(np.searchsorted(bp, k, side="right") - 1, 0, len(bp) - 1)]
    hi = bp[np.clip(np.searchsorted(bp, k, side="left"), 0, len(bp) - 1)]
    w = np.where(hi > lo, (k - lo) / np.maximum(hi - lo, 1), 0.0)
    return lo, hi, w
