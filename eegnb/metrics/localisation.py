"""Agreement of explanation maps with planted ground truth (category: localisation).

Every function scores each sample separately and returns ``(n,)``; ``truth`` is ``(n, ...)``
with the maps' shape or ``maps.shape[1:]`` (one truth for all samples). Positives are
``truth >= threshold`` (:func:`truth_mask`): at the default 0.5 a weight-0.5 neighbour of a
planted element counts as POSITIVE. Applicable to time maps ``(n, ch, t)`` against
``EEGData.truth`` and to band maps ``(n, ch, n_bands)`` against
:func:`band_localisation_truth` (= ``eegnb.explain.bands.band_truth``) computed with the band
edges *of the map's method* (never assumed).

- :func:`localisation_auc`: ROC-AUC of the map as a detector of planted elements. Higher is
  better; range [0, 1]; 0.5 = chance (and a constant map); 1 = every positive outranks every
  negative. Ties get average ranks (Mann-Whitney U, as ``sklearn.metrics.roc_auc_score``).
  Quantus: ``AUC`` (Fawcett 2006).
- :func:`relevance_mass`: share of positive relevance inside the truth. Higher is better;
  range [0, 1]; a uniform map scores the positives' share. Quantus ``RelevanceMassAccuracy``
  (Arras et al. 2022, CLEVR-XAI).
- :func:`topk_precision`: share of the ``k`` top-ranked elements inside the truth (``k`` =
  number of positives by default). Higher is better; range [0, 1]; chance = positives' share.
  Quantus ``RelevanceRankAccuracy`` (Arras et al. 2022), except that ties at the k-th place
  count as ties (expected precision over the tied group) instead of by sort position.
- :func:`relevance_share`: the older name of :func:`relevance_mass` (``positive=False`` uses
  ``|map|``).

Hand-written: the rank-based AUC (vectorised Mann-Whitney with scipy's average ranks, checked
against scikit-learn and Quantus in ``tests/test_metrics_localisation.py``) and the tie-aware
top-k precision (no library has it).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def _flat(maps: np.ndarray, truth: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    maps = np.asarray(maps, dtype=float)
    if maps.ndim < 2:
        raise ValueError(f"maps must have shape (n, ...) with one map per sample, got {maps.shape}")
    t = _broadcast_truth(maps, truth_mask(truth, threshold))
    return maps.reshape(len(maps), -1), t.reshape(len(maps), -1)


def _broadcast_truth(maps: np.ndarray, truth: np.ndarray) -> np.ndarray:
    truth = np.asarray(truth)
    if truth.shape == maps.shape[1:]:
        truth = np.broadcast_to(truth, maps.shape)
    if truth.shape != maps.shape:
        raise ValueError(f"truth shape {truth.shape} does not match maps {maps.shape} or maps[0]")
    return truth


def truth_mask(truth: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Boolean positives ``truth >= threshold`` (same shape as ``truth``).

    At the default 0.5 a neighbour weighted exactly 0.5 is POSITIVE and one weighted 0.49 is
    negative. Boolean truth is returned as is.
    """
    truth = np.asarray(truth)
    if truth.dtype == bool:
        return truth
    if not np.issubdtype(truth.dtype, np.number):
        raise ValueError(f"truth must be numeric or boolean, got dtype {truth.dtype}")
    return truth >= threshold


def localisation_auc(
    maps: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5, absolute: bool = True
) -> np.ndarray:
    """Per-sample ROC-AUC ``(n,)`` of ``maps (n, ...)`` as a score for ``truth >= threshold``.

    ``absolute`` ranks by ``|map|`` (signed LRP maps mark evidence with either sign). Ties get
    average ranks, so a constant map scores 0.5. NaN where a sample's truth has no positives or
    no negatives, or its map holds a non-finite value. Higher is better, 0.5 = chance.
    """
    a, t = _flat(maps, truth, threshold)
    if absolute:
        a = np.abs(a)
    n_pos = t.sum(1)
    n_neg = t.shape[1] - n_pos
    ok = (n_pos > 0) & (n_neg > 0) & np.isfinite(a).all(1)
    out = np.full(len(a), np.nan)
    if ok.any():
        r = rankdata(a[ok], method="average", axis=1)
        u = (r * t[ok]).sum(1) - n_pos[ok] * (n_pos[ok] + 1) / 2.0  # Mann-Whitney U of positives
        out[ok] = u / (n_pos[ok] * n_neg[ok])
    return out


def relevance_mass(maps: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Per-sample share ``(n,)`` of positive relevance lying where ``truth >= threshold``.

    ``sum(max(map, 0) * truth) / sum(max(map, 0))``; NaN when a map has no positive relevance
    or its truth no positives. Higher is better, range [0, 1] (Quantus RelevanceMassAccuracy).
    """
    a, t = _flat(maps, truth, threshold)
    r = np.clip(np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0), 0, None)
    tot = r.sum(1)
    on = (r * t).sum(1)
    ok = (tot > 0) & t.any(1) & np.isfinite(a).all(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, on / np.where(tot > 0, tot, 1.0), np.nan)


def topk_precision(
    maps: np.ndarray,
    truth: np.ndarray,
    *,
    k: int | None = None,
    threshold: float = 0.5,
    absolute: bool = True,
) -> np.ndarray:
    """Per-sample share ``(n,)`` of the ``k`` top-ranked elements that lie inside the truth.

    ``k`` defaults to each sample's number of positives (then it equals Quantus
    RelevanceRankAccuracy up to ties). Ties at the k-th place are ties: of the group tied with
    the k-th value, the places still free contribute the group's mean truth (the expected
    precision over every order of the group), never a random or positional draw. NaN when
    ``k`` is 0 or a map holds a non-finite value. Higher is better, range [0, 1].
    """
    a, t = _flat(maps, truth, threshold)
    if absolute:
        a = np.abs(a)
    n, e = a.shape
    out = np.full(n, np.nan)
    for i in range(n):
        ki = int(t[i].sum()) if k is None else int(k)
        if not 0 <= ki <= e:
            raise ValueError(f"k must be in [0, {e}], got {ki}")
        if ki == 0 or not np.isfinite(a[i]).all():
            continue
        v = np.sort(a[i])[::-1][ki - 1]  # the k-th largest value
        above = a[i] > v
        tied = a[i] == v
        free = ki - above.sum()  # places of the top k left to the tie group
        out[i] = (t[i][above].sum() + free * t[i][tied].mean()) / ki
    return out


def relevance_share(maps: np.ndarray, truth: np.ndarray, *, threshold: float = 0.5, positive: bool = True) -> np.ndarray:
    """Per-sample share ``(n,)`` of (positive, or absolute) relevance on ``truth >= threshold``.

    ``positive=True`` is :func:`relevance_mass`; NaN where a map has no such relevance.
    """
    if positive:
        return relevance_mass(maps, truth, threshold=threshold)
    return relevance_mass(np.abs(np.asarray(maps, dtype=float)), truth, threshold=threshold)


def band_localisation_truth(truth_freq: np.ndarray, sfreq: float, n_times: int, edges: np.ndarray) -> np.ndarray:
    """Band truth ``(..., ch, n_bands)`` for band maps from ``truth_freq (..., ch, n_times // 2 + 1)``.

    The max over each band's rfft bins (``eegnb.explain.bands.band_truth``). ``edges
    (n_bands, 2)`` Hz must be the edges the map's method used (e.g. ``band_edges(sfreq,
    n_bands)`` with that method's ``n_bands``/``bands``); they are required, never assumed.
    """
    from eegnb.explain.bands import band_truth

    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must be (n_bands, 2) in Hz, got shape {edges.shape}")
    tf = np.asarray(truth_freq, dtype=float)
    if tf.shape[-1] != n_times // 2 + 1:
        raise ValueError(f"truth_freq must end in n_times // 2 + 1 = {n_times // 2 + 1} bins, got {tf.shape}")
    return band_truth(tf, sfreq, n_times, edges)
