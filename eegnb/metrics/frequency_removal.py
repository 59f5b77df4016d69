"""Scores of frequency-domain explanations (paper 2, Wang et al., section 4).

- :func:`removal_game`: the removal-and-feed-in game. The band map (averaged over samples at
  group level, per sample at instance level) is split at its median into salient and
  non-salient channel x band components; either half is zeroed in the rfft, the signal is
  inverted with ``irfft`` and the model's accuracy is measured. ``RS`` (salient removed)
  should fall far below ``Ori``; ``RN`` (non-salient removed) should stay near it. Score
  direction: a larger ``RN - RS`` gap is a more faithful map. Applies to any
  ``(n, ch, n_bands)`` or ``(ch, n_bands)`` map on any classifier of ``(n, ch, t)`` signals.
  Ties at the median (saturated masks) are broken by a seeded random order so that each half
  holds exactly half of the components, as the median split does when values are distinct.
- :func:`kde_score`: mean log-likelihood of perturbed samples under a Gaussian kernel density
  (scikit-learn ``KernelDensity``) fitted on the original samples (paper 2, Table 2; higher
  means the perturbed samples look more like the data). The paper does not say in which
  space; we offer log band power per channel and band (default) and the raw time samples,
  each standardised and reduced by PCA.
- :func:`generator_flops`: FLOPs of a perturbation generator's forward pass, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (paper 2, section 4.7).

Walked through in ``notebooks/20_frequency_mask_method.ipynb`` and ``21_...experiments``.
"""

from __future__ import annotations

import numpy as np
import torch

from eegnb.explain.bands import aggregate_bins, band_edges, bin_band_index, rfft_freqs
from eegnb.explain.registry import predict
from eegnb.utils import to_numpy


def salient_split(saliency: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Boolean ``salient`` of ``saliency``'s shape: per map (last two axes ``(ch, n_bands)``),
    the top half of components by value (median split; seeded random order among ties)."""
    s = np.asarray(saliency, dtype=float)
    if s.ndim not in (2, 3):
        raise ValueError(f"saliency must be (ch, n_bands) or (n, ch, n_bands); got shape {s.shape}")
    flat = s.reshape(-1, s.shape[-2] * s.shape[-1]) if s.ndim == 3 else s.reshape(1, -1)
    rng = np.random.default_rng(seed)
    out = np.zeros(flat.shape, dtype=bool)
    k = flat.shape[1] // 2
    for i, row in enumerate(flat):
        tie = rng.permutation(len(row))
        order = np.lexsort((tie, -row))  # descending value, ties in random order
        out[i, order[:k]] = True
    return out.reshape(s.shape)


def remove_components(X, remove: np.ndarray, *, sfreq: float, edges: np.ndarray) -> np.ndarray:
    """Zero the rfft bins of the ``remove`` channel x band components and invert.

    X ``(n, ch, t)``; remove bool ``(ch, n_bands)`` or ``(n, ch, n_bands)``; edges
    ``(n_bands, 2)`` Hz. Bins outside every band are kept. Returns ``(n, ch, t)`` float32.
    """
    X = np.asarray(to_numpy(X), dtype=np.float32)
    if X.ndim != 3:
        raise ValueError(f"X must be (n, ch, t); got {X.shape}")
    n, n_ch, n_t = X.shape
    remove = np.asarray(remove, dtype=bool)
    if remove.shape[-2:] != (n_ch, len(edges)):
        raise ValueError(f"remove must end in (ch, n_bands) = {(n_ch, len(edges))}; got {remove.shape}")
    bidx = bin_band_index(rfft_freqs(n_t, sfreq), edges)
    keep_b = np.concatenate([~remove, np.ones(remove.shape[:-1] + (1,), bool)], axis=-1)
    keep_bins = keep_b[..., bidx]  # index -1 picks the appended "keep" column
    Xf = np.fft.rfft(X, axis=-1)
    return np.fft.irfft(Xf * keep_bins, n=n_t, axis=-1).astype(np.float32)


def removal_game(
    model: torch.nn.Module,
    X,
    y,
    saliency: np.ndarray,
    *,
    sfreq: float,
    edges: np.ndarray | None = None,
    n_bands: int = 10,
    bands=None,
    level: str = "group",
    device=None,
    seed: int = 0,
) -> dict:
    """Accuracies ``{"ori", "rn", "rs"}`` of the RN/RS game on ``(X (n, ch, t), y (n,))``.

    saliency ``(n, ch, n_bands)`` (or ``(ch, n_bands)`` at group level). ``level="group"``
    averages the maps over samples and removes the same components from every sample;
    ``"instance"`` splits each sample's own map. Band ``edges`` default to
    ``band_edges(sfreq, n_bands, bands)``. Also returns ``rn_drop``/``rs_drop`` (``ori`` minus).
    """
    if level not in ("group", "instance"):
        raise ValueError(f"level must be 'group' or 'instance', got {level!r}")
    edges = band_edges(sfreq, n_bands, bands) if edges is None else np.asarray(edges, float)
    y = np.asarray(to_numpy(y))
    n = len(to_numpy(X))
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    sal = np.asarray(saliency, dtype=float)
    if level == "instance" and sal.ndim == 3 and len(sal) != n:
        raise ValueError(f"instance level needs one map per sample: saliency has {len(sal)}, X has {n}")
    if level == "group":
        sal = sal.mean(0) if sal.ndim == 3 else sal
    elif sal.ndim != 3:
        raise ValueError("instance level needs per-sample saliency (n, ch, n_bands)")
    salient = salient_split(sal, seed=seed)

    def acc(Z):
        return float((predict(model, Z, device=device).argmax(1) == y).mean())

    ori = acc(X)
    rn = acc(remove_components(X, ~salient, sfreq=sfreq, edges=edges))
    rs = acc(remove_components(X, salient, sfreq=sfreq, edges=edges))
    return dict(ori=ori, rn=rn, rs=rs, rn_drop=ori - rn, rs_drop=ori - rs)


def log_band_power(X, *, sfreq: float, n_bands: int = 10, bands=None) -> np.ndarray:
    """Log mean rfft power per channel and band ``(n, ch * n_bands)`` of ``X (n, ch, t)``."""
    X = np.asarray(to_numpy(X), dtype=np.float64)
    edges = band_edges(sfreq, n_bands, bands)
    p = np.abs(np.fft.rfft(X, axis=-1)) ** 2
    bp = aggregate_bins(p, rfft_freqs(X.shape[-1], sfreq), edges, "mean")
    return np.log(bp + 1e-12).reshape(len(X), -1)


def kde_score(
    original,
    perturbed,
    *,
    sfreq: float,
    features: str = "logpower",
    n_bands: int = 10,
    n_components: int = 10,
    bandwidth: float | str = "scott",
) -> float:
    """Mean log-likelihood of ``perturbed (m, ch, t)`` under a Gaussian KDE of ``original (n, ch, t)``.

    ``features``: ``"logpower"`` (:func:`log_band_power`, the spectral content) or ``"time"``
    (the raw samples, flattened). Either is standardised and projected on ``n_components``
    whitened principal components fitted on ``original`` (scikit-learn ``StandardScaler``,
    ``PCA``, ``KernelDensity``). Higher = closer to the original distribution.
    """
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KernelDensity
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if features == "logpower":
        fo = log_band_power(original, sfreq=sfreq, n_bands=n_bands)
        fp = log_band_power(perturbed, sfreq=sfreq, n_bands=n_bands)
    elif features == "time":
        fo = np.asarray(to_numpy(original), dtype=np.float64).reshape(len(original), -1)
        fp = np.asarray(to_numpy(perturbed), dtype=np.float64).reshape(len(perturbed), -1)
    else:
        raise ValueError(f"features must be 'logpower' or 'time', got {features!r}")
    k = int(min(n_components, fo.shape[0] - 1, fo.shape[1]))
    if k < 1:
        raise ValueError("kde_score needs at least 2 original samples")
    proj = make_pipeline(StandardScaler(), PCA(n_components=k, whiten=True, random_state=0)).fit(fo)
    kde = KernelDensity(kernel="gaussian", bandwidth=bandwidth).fit(proj.transform(fo))
    return float(kde.score_samples(proj.transform(fp)).mean())


def generator_flops(kind: str, n_chans: int, n_bins: int) -> dict:
    """FLOPs of one forward pass of generator ``kind`` (``"two_branch"``, ``"one_branch"``,
    ``"gru"``) on one sample ``(ch, n_bins)``, counted by ``FlopCounterMode``.

    Returns ``per_sample`` (all channels) and ``per_channel`` (``per_sample / n_chans``; the
    paper's 320K for its dense generator is one channel's spectrum) and ``n_params``.
    """
    from torch.utils.flop_counter import FlopCounterMode

    from eegnb.explain.frequency_mask import make_generator

    gen = make_generator(kind, n_chans, n_bins).eval()
    re = torch.zeros(1, n_chans, n_bins)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        gen(re, re.clone())
    total = int(fc.get_total_flops())
    return dict(per_sample=total, per_channel=total / n_chans, n_params=sum(p.numel() for p in gen.parameters()))
