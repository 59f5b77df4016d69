"""Relevance per modality (EEG / EOG / EMG) of multimodal explanations, and modality ablation.

Paper 4 (Ellis et al., Sec. II-D) summarises an LRP map of a 30-s multimodal epoch by the
percentage of its absolute relevance that lies on each modality, then aggregates these
"relevance shares" globally (all test samples of a fold), per classification group (true x
predicted stage) and locally (epoch after epoch of one night). Walked through in
``notebooks/40_lrp_sleep_staging``.

- :func:`modality_relevance` ``(n, ch, t) -> (n, n_mod)``: absolute relevance summed per modality.
- :func:`shares_from_relevance` / :func:`modality_shares`: per-sample percentages (rows sum to 100).
- :func:`global_shares`, :func:`group_shares`, :func:`group_counts`, :func:`local_shares`:
  the paper's three aggregation levels as tidy DataFrames.
- :func:`modality_ablation`: the ablation baseline the paper argues against: replace one
  modality by its per-recording mean and measure the drop of the predicted class's probability.

What the shares measure: how the explainer distributes (absolute) relevance over modalities;
no direction (higher is not "better"). They apply to any time-domain map whose channels carry
a modality type. No library computes these summaries, so they are written here (numpy/pandas).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

MODALITIES = ("eeg", "eog", "emg")


def _modality_index(ch_types: Sequence[str], modalities: Sequence[str]) -> list[np.ndarray]:
    types = np.asarray([str(t).lower() for t in ch_types])
    idx = [np.flatnonzero(types == m) for m in modalities]
    missing = [m for m, i in zip(modalities, idx) if len(i) == 0]
    if missing:
        raise ValueError(f"no channel of type {missing} in ch_types {list(types)}")
    return idx


def modality_relevance(
    maps: np.ndarray, ch_types: Sequence[str], modalities: Sequence[str] = MODALITIES
) -> np.ndarray:
    """Absolute relevance summed over the channels and time of each modality.

    maps: ``(n, ch, t)`` (signed) relevance maps; ch_types: ``ch`` modality names
    (``"eeg"``/``"eog"``/``"emg"``). Returns ``(n, len(modalities))`` float64.
    """
    maps = np.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (n, ch, t); got {maps.shape}")
    if len(ch_types) != maps.shape[1]:
        raise ValueError(
            f"ch_types has {len(ch_types)} entries but maps have {maps.shape[1]} channels"
        )
    idx = _modality_index(ch_types, modalities)
    a = np.abs(maps.astype(np.float64, copy=False))
    return np.stack([a[:, i].sum(axis=(1, 2)) for i in idx], axis=1)


def shares_from_relevance(rel: np.ndarray) -> np.ndarray:
    """Per-sample percentages ``(n, n_mod)`` from absolute relevance ``(n, n_mod)``; rows sum to 100.

    Rows with no relevance at all are NaN.
    """
    rel = np.asarray(rel, dtype=float)
    if rel.ndim != 2:
        raise ValueError(f"relevance must have shape (n, n_modalities); got {rel.shape}")
    if (rel < 0).any():
        raise ValueError("relevance per modality must be absolute (non-negative)")
    tot = rel.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, 100.0 * rel / tot, np.nan)


def modality_shares(
    maps: np.ndarray, ch_types: Sequence[str], modalities: Sequence[str] = MODALITIES
) -> np.ndarray:
    """Percentage of each sample's absolute relevance on each modality: ``(n, ch, t) -> (n, n_mod)``."""
    return shares_from_relevance(modality_relevance(maps, ch_types, modalities))


def _pooled(rel: np.ndarray) -> np.ndarray:
    tot = rel.sum()
    return 100.0 * rel.sum(0) / tot if tot > 0 else np.full(rel.shape[1], np.nan)


def _aggregate(rel: np.ndarray, pooled: bool) -> np.ndarray:
    """Share of a set of samples: pooled relevance (paper: 'percent of absolute relevance across
    samples') or the mean of the per-sample shares."""
    return _pooled(rel) if pooled else np.nanmean(shares_from_relevance(rel), axis=0)


def global_shares(
    rel: np.ndarray,
    fold: np.ndarray,
    *,
    modalities: Sequence[str] = MODALITIES,
    pooled: bool = True,
) -> pd.DataFrame:
    """Share per fold and modality over all of a fold's test samples (paper Fig. 1).

    rel: ``(n, n_mod)`` absolute relevance per modality; fold: ``(n,)`` fold label.
    Returns columns ``fold``, ``modality``, ``share`` (%), ``n``.
    """
    rel = np.asarray(rel, float)
    fold = np.asarray(fold)
    rows = []
    for f in np.unique(fold):
        r = rel[fold == f]
        for m, s in zip(modalities, _aggregate(r, pooled)):
            rows.append(dict(fold=f, modality=m, share=s, n=len(r)))
    return pd.DataFrame(rows)


def group_counts(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> pd.DataFrame:
    """Samples per classification group: a ``true x predicted`` table (the confusion matrix)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = len(class_names)
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred must have the same length")
    if len(y_true) and (
        min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= k
    ):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return pd.DataFrame(
        counts, index=pd.Index(class_names, name="true"), columns=pd.Index(class_names, name="pred")
    )


def group_shares(
    rel: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    fold: np.ndarray,
    class_names: Sequence[str],
    *,
    modalities: Sequence[str] = MODALITIES,
    pooled: bool = True,
) -> pd.DataFrame:
    """Share per fold, classification group (true x predicted class) and modality (paper Fig. 2).

    Returns columns ``fold``, ``true``, ``pred`` (class names), ``correct``, ``modality``,
    ``share`` (%), ``n`` (samples of that group in that fold). Groups absent from a fold have
    no rows.
    """
    rel = np.asarray(rel, float)
    y_true, y_pred, fold = np.asarray(y_true), np.asarray(y_pred), np.asarray(fold)
    if not (len(rel) == len(y_true) == len(y_pred) == len(fold)):
        raise ValueError("rel, y_true, y_pred and fold must have the same length")
    rows = []
    for f in np.unique(fold):
        in_f = fold == f
        for t in range(len(class_names)):
            for p in range(len(class_names)):
                sel = in_f & (y_true == t) & (y_pred == p)
                if not sel.any():
                    continue
                for m, s in zip(modalities, _aggregate(rel[sel], pooled)):
                    rows.append(
                        dict(
                            fold=f,
                            true=class_names[t],
                            pred=class_names[p],
                            correct=t == p,
                            modality=m,
                            share=s,
                            n=int(sel.sum()),
                        )
                    )
    return pd.DataFrame(rows, columns=["fold", "true", "pred", "correct", "modality", "share", "n"])


def local_shares(
    rel: np.ndarray,
    onset: np.ndarray,
    *,
    modalities: Sequence[str] = MODALITIES,
    start: float = 0.0,
    duration: float | None = None,
) -> pd.DataFrame:
    """Per-epoch shares of one recording over time (paper Fig. 3, bottom panel).

    rel: ``(n, n_mod)`` absolute relevance of the recording's epochs; onset: ``(n,)`` epoch
    onsets in s. Keeps epochs with ``start <= onset < start + duration`` (s), sorted by onset.
    Returns columns ``onset`` (s), ``minute`` and one share column (%) per modality.
    """
    rel = np.asarray(rel, float)
    onset = np.asarray(onset, float)
    if len(rel) != len(onset):
        raise ValueError("rel and onset must have the same length")
    keep = onset >= start
    if duration is not None:
        keep &= onset < start + duration
    order = np.argsort(onset[keep], kind="stable")
    sh = shares_from_relevance(rel[keep][order])
    out = pd.DataFrame(sh, columns=list(modalities))
    out.insert(0, "minute", (onset[keep][order] - start) / 60.0)
    out.insert(0, "onset", onset[keep][order])
    return out


def recording_means(X: np.ndarray, recording: np.ndarray) -> np.ndarray:
    """Per-recording mean of every channel over epochs and time: ``(n, ch)`` (row = its recording's mean)."""
    X = np.asarray(X)
    recording = np.asarray(recording)
    out = np.empty(X.shape[:2], dtype=np.float64)
    for r in pd.unique(recording):
        sel = recording == r
        out[sel] = X[sel].mean(axis=(0, 2), dtype=np.float64)
    return out


@torch.no_grad()
def modality_ablation(
    model: torch.nn.Module,
    X: np.ndarray,
    ch_types: Sequence[str],
    recording: np.ndarray,
    target: np.ndarray | None = None,
    *,
    modalities: Sequence[str] = MODALITIES,
    means: np.ndarray | None = None,
    device=None,
    batch_size: int = 256,
) -> dict[str, np.ndarray]:
    """Ablation baseline: replace one modality at a time by its per-recording mean.

    X: ``(n, ch, t)``; recording: ``(n,)`` recording (night) label of every epoch; target:
    class whose probability is tracked (default: the predicted class). Returns
    ``proba (n,)`` (target probability on intact data), ``drop (n, n_mod)`` (intact minus
    ablated probability; positive = the modality supported the decision), ``flip (n, n_mod)``
    (the predicted class changed). The means come from ``X`` itself, i.e. from the samples
    passed in, unless ``means (n, ch)`` gives each sample's replacement values (e.g. the
    :func:`recording_means` of whole recordings when only some epochs are ablated).
    """
    from eegnb.explain.registry import predict

    X = np.asarray(X, dtype=np.float32)
    idx = _modality_index(ch_types, modalities)
    base = predict(model, X, device=device, batch_size=batch_size)
    pred = base.argmax(1)
    target = pred if target is None else np.broadcast_to(np.asarray(target), (len(X),))
    p0 = base[np.arange(len(X)), target]
    means = recording_means(X, recording) if means is None else np.asarray(means)
    if means.shape != X.shape[:2]:
        raise ValueError(f"means must have shape {X.shape[:2]} (n, ch); got {means.shape}")
    means = means.astype(np.float32)
    drop = np.zeros((len(X), len(modalities)))
    flip = np.zeros((len(X), len(modalities)), dtype=bool)
    for j, ch in enumerate(idx):
        Xa = X.copy()
        Xa[:, ch, :] = means[:, ch, None]
        pa = predict(model, Xa, device=device, batch_size=batch_size)
        drop[:, j] = p0 - pa[np.arange(len(X)), target]
        flip[:, j] = pa.argmax(1) != pred
    return dict(proba=p0, drop=drop, flip=flip)


def ablation_shares(drop: np.ndarray) -> np.ndarray:
    """Ablation importance as percentages ``(n, n_mod)``: positive drops normalised to sum to 100.

    Puts ablation on the same scale as the LRP shares; NaN where no ablation lowered the
    probability.
    """
    return shares_from_relevance(np.clip(np.asarray(drop, float), 0, None))
