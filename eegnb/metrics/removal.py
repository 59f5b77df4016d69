"""Removal games (paper 1, Wang et al. 2022, Sec. III-C to III-F): channel and time-step reduction.

What it measures: how much a model's accuracy drops when the elements a saliency map ranks
highest are removed (set to 0, as in the paper following Farahat et al. 2019). Direction:
for ``order="top"`` a *lower* accuracy after removal means a more faithful map; removing the
``order="bottom"`` (least salient) elements should hurt less. A random map
(:func:`random_maps`) gives what chance looks like. Category: faithfulness (perturbation).
Applicable to any time-domain map ``(n, ch, t)`` (signed maps are ranked by ``|map|`` when
``absolute=True``). Scores: a channel's score is the map's mean over time, a time step's
score the mean over channels (paper Sec. III-C, III-D).

Instance level ranks each sample by its own map; group level (paper Fig. 7) averages the
maps of a group (e.g. all samples one subject's model sees) and removes the same elements
from every sample of that group. Ties are never broken at random: :func:`removal_accuracy` is
the deletion engine of :mod:`eegnb.metrics.faithfulness` at ``k`` (tie groups removed whole,
accuracy interpolated linearly inside the group straddling ``k``, so a flat map scores on the
straight line between removing nothing and everything) and :func:`select` keeps tie groups
whole by average rank. Hand-written: the games are a few lines of numpy; walked through in
``notebooks/11_context_mask_experiments.ipynb``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from eegnb.metrics.ranking import rank_select

AXES = {"channel": 2, "time": 1}  # axis of the map averaged away to score the other


def element_scores(
    maps: np.ndarray, axis: str = "channel", *, absolute: bool = False
) -> np.ndarray:
    """Per-sample scores: ``(n, ch)`` (mean over time) for ``"channel"``, ``(n, t)`` for ``"time"``."""
    from eegnb.metrics.faithfulness import element_scores as _element_scores

    if axis not in AXES:
        raise ValueError(f"axis must be one of {sorted(AXES)}, got {axis!r}")
    return _element_scores(maps, axis, absolute=absolute)


def group_scores(scores: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """Replace each sample's scores ``(n, e)`` by the mean over its group (all samples if ``None``)."""
    scores = np.asarray(scores, dtype=float)
    if groups is None:
        return np.broadcast_to(scores.mean(0), scores.shape).copy()
    groups = np.asarray(groups)
    if groups.shape != (len(scores),):
        raise ValueError(f"groups must have shape ({len(scores)},), got {groups.shape}")
    out = np.empty_like(scores)
    for g in np.unique(groups):
        sel = groups == g
        out[sel] = scores[sel].mean(0)
    return out


def select(scores: np.ndarray, k: int, order: str = "top", *, seed: int = 0) -> np.ndarray:
    """Boolean ``(n, e)`` marking each row's ``k`` highest (``"top"``) or lowest (``"bottom"``) scores.

    Tie groups are kept whole (:func:`eegnb.metrics.ranking.rank_select`): an element is chosen
    when its average rank is ``<= k + 0.5``, so a row may hold more or fewer than ``k`` when
    values tie. ``seed`` is accepted for backward compatibility and unused (no random draw).
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (n, elements), got {scores.shape}")
    if order not in ("top", "bottom"):
        raise ValueError(f"order must be 'top' or 'bottom', got {order!r}")
    return rank_select(scores, k, order)


def remove(
    X: np.ndarray, chosen: np.ndarray, axis: str = "channel", fill: float = 0.0
) -> np.ndarray:
    """Copy of ``X (n, ch, t)`` with the chosen channels ``(n, ch)`` or time steps ``(n, t)`` set to ``fill``."""
    X = np.array(X, dtype=np.float32, copy=True)
    chosen = np.asarray(chosen, bool)
    if axis == "channel":
        if chosen.shape != X.shape[:2]:
            raise ValueError(f"chosen channels must have shape {X.shape[:2]}, got {chosen.shape}")
        X[np.broadcast_to(chosen[:, :, None], X.shape)] = fill
    elif axis == "time":
        if chosen.shape != (X.shape[0], X.shape[2]):
            raise ValueError(
                f"chosen time steps must have shape {(X.shape[0], X.shape[2])}, got {chosen.shape}"
            )
        X[np.broadcast_to(chosen[:, None, :], X.shape)] = fill
    else:
        raise ValueError(f"axis must be 'channel' or 'time', got {axis!r}")
    return X


def random_maps(shape: Sequence[int], seed: int = 0) -> np.ndarray:
    """Uniform random maps of ``shape`` (the chance control of every removal game)."""
    return np.random.default_rng(seed).random(tuple(shape)).astype(np.float32)


def _accuracy(model, X: np.ndarray, y: np.ndarray, device=None) -> float:  # before removal
    from eegnb.explain.registry import predict

    return float((predict(model, X, device=device).argmax(1) == np.asarray(y)).mean())


def removal_accuracy(
    model,
    X: np.ndarray,
    y: np.ndarray,
    maps: np.ndarray,
    *,
    axis: str = "channel",
    k: int = 6,
    order: str = "top",
    level: str = "instance",
    groups: np.ndarray | None = None,
    absolute: bool = False,
    fill: float = 0.0,
    seed: int = 0,
    device=None,
    replace=None,
    batch_size: int = 256,
) -> float:
    """Accuracy of ``model`` on ``X (n, ch, t)`` after removing ``k`` channels/time steps chosen by ``maps``.

    ``level="instance"``: each sample's own map ranks its elements; ``"group"``: maps averaged
    over ``groups`` (all samples when ``None``) first. Removed elements are set to ``fill``
    (or any ``replace`` of :func:`eegnb.metrics.faithfulness.deletion_curve`). Ties: whole tie
    groups, accuracy interpolated linearly inside the group that straddles ``k`` (the deletion
    curve at ``k``); ``seed`` feeds noise replacements only.
    """
    from eegnb.metrics.faithfulness import _Remover, curve_at

    X = np.asarray(X, dtype=np.float32)
    maps = np.asarray(maps)
    if maps.shape != X.shape:
        raise ValueError(f"maps must have X's shape {X.shape}, got {maps.shape}")
    if level not in ("instance", "group"):
        raise ValueError(f"level must be 'instance' or 'group', got {level!r}")
    if order not in ("top", "bottom"):
        raise ValueError(f"order must be 'top' or 'bottom', got {order!r}")
    s = element_scores(maps, axis, absolute=absolute)
    if not 0 <= k <= s.shape[1]:
        raise ValueError(f"k must be in [0, {s.shape[1]}], got {k}")
    if level == "group":
        s = group_scores(s, groups)
    if replace is None:
        replace = "zero" if fill == 0 else (lambda Xb, rem: _fill(Xb, rem, axis, fill))
    y = np.asarray(y)
    remover = _Remover(X, axis, replace, seed=seed)
    acc = curve_at(model, X, y, s, [k], remover, order=order, score="accuracy", device=device, batch_size=batch_size)
    return float(np.nanmean(acc))


def _fill(Xb: np.ndarray, rem: np.ndarray, axis: str, fill: float) -> np.ndarray:
    full = rem[:, :, None] if axis == "channel" else rem[:, None, :]
    return np.where(np.broadcast_to(full, Xb.shape), np.float32(fill), Xb)


def removal_game(
    model,
    X: np.ndarray,
    y: np.ndarray,
    maps: Mapping[str, np.ndarray],
    *,
    axis: str = "channel",
    ks: Sequence[int] = (6,),
    orders: Sequence[str] = ("top", "bottom"),
    level: str = "instance",
    groups: np.ndarray | None = None,
    random_control: bool = True,
    absolute: bool = False,
    seed: int = 0,
    device=None,
) -> pd.DataFrame:
    """Accuracies for every map in ``maps`` (name -> ``(n, ch, t)``), ``k`` in ``ks`` and order.

    Adds a ``"random"`` map (seeded) when ``random_control`` and a ``k = 0`` row (accuracy
    before removal, ``method="none"``). Returns a long DataFrame with columns
    ``method, axis, level, order, k, acc``.
    """
    maps = dict(maps)
    if random_control and "random" not in maps:
        maps["random"] = random_maps(np.shape(X), seed=seed)
    rows = [
        dict(
            method="none",
            axis=axis,
            level=level,
            order="none",
            k=0,
            acc=_accuracy(model, X, y, device),
        )
    ]
    for name, m in maps.items():
        for order in orders:
            for k in ks:
                acc = removal_accuracy(
                    model,
                    X,
                    y,
                    m,
                    axis=axis,
                    k=k,
                    order=order,
                    level=level,
                    groups=groups,
                    absolute=absolute,
                    seed=seed,
                    device=device,
                )
                rows.append(
                    dict(method=name, axis=axis, level=level, order=order, k=int(k), acc=acc)
                )
    return pd.DataFrame(rows)
