"""Agreement of explanation maps with planted ground truth.

``localisation_auc`` (higher is better, 0.5 = chance, 1 = every planted element outranks every
other): the ROC-AUC of the map's values as a score for "this element carries planted evidence".
``relevance_share`` (higher is better; the uniform share is ``mask.mean()``): the fraction of
positive relevance that falls on the planted elements. Both per sample. Applicable to any map
with the truth's shape: time maps ``(n, ch, t)`` against ``EEGData.truth``, band maps
``(n, ch, n_bands)`` against ``band_truth``.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def _broadcast_truth(maps: np.ndarray, truth: np.ndarray) -> np.ndarray:
    truth = np.asarray(truth)
    if truth.shape == maps.shape[1:]:
        truth = np.broadcast_to(truth, maps.shape)
    if truth.shape != maps.shape:
        raise ValueError(f"truth shape {truth.shape} does not match maps {maps.shape} or maps[0]")
    return truth


def localisation_auc(maps: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5, absolute: bool = True) -> np.ndarray:
    """Per-sample ROC-AUC ``(n,)`` of ``maps (n, ...)`` against ``truth`` (same shape or ``maps.shape[1:]``).

    Truth values ``> threshold`` are positives. ``absolute`` ranks by ``|map|`` (signed LRP maps
    mark evidence with either sign). NaN where a sample's truth has no positives or no negatives.
    """
    maps = np.asarray(maps, dtype=float)
    truth = _broadcast_truth(maps, truth)
    out = np.full(len(maps), np.nan)
    for i in range(len(maps)):
        t = truth[i].ravel() > threshold
        if t.all() or not t.any():
            continue
        s = maps[i].ravel()
        out[i] = roc_auc_score(t, np.abs(s) if absolute else s)
    return out


def relevance_share(maps: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5, positive: bool = True) -> np.ndarray:
    """Per-sample share ``(n,)`` of (positive, or absolute) relevance that lies where ``truth > threshold``."""
    maps = np.asarray(maps, dtype=float)
    truth = _broadcast_truth(maps, truth) > threshold
    r = np.clip(maps, 0, None) if positive else np.abs(maps)
    tot = r.reshape(len(r), -1).sum(1)
    on = (r * truth).reshape(len(r), -1).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, on / tot, np.nan)
