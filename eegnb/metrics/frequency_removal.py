"""Scores of frequency-domain explanations (paper 2, Wang et al., section 4).

- :func:`removal_game`: the removal-and-feed-in game. The band map (averaged over samples at
  group level, per sample at instance level) is split at its median into salient and
  non-salient channel x band components; either half is zeroed in the rfft, the signal is
  inverted with ``irfft`` and the model's accuracy is measured. ``RS`` (salient removed)
  should fall far below ``Ori``; ``RN`` (non-salient removed) should stay near it. Score
  direction: a larger ``RN - RS`` gap is a more faithful map. Applies to any
  ``(n, ch, n_bands)`` or ``(ch, n_bands)`` map on any classifier of ``(n, ch, t)`` signals.
  Ties use average ranks (shared code in :mod:`eegnb.metrics.ranking`): a tie group
  straddling the median goes wholly to the side holding at least half of it, so the halves
  may differ in size; their sizes are returned. Constant (e.g. all-zero) and non-finite maps
  rank nothing: they are counted (``n_degenerate``) and excluded — instance level scores the
  non-degenerate samples only, group level returns NaN with ``degenerate=True``. The
  deletion-curve view of the same game is ``eegnb.metrics.faithfulness.deletion_curve(...,
  axis="band")``.
- :func:`kde_score`: mean log-likelihood of perturbed samples under a Gaussian kernel density
  (scikit-learn ``KernelDensity``) fitted on the original samples (paper 2, Table 2; higher
  means the perturbed samples look more like the data). The paper does not say in which
  space; we offer log band power per channel and band (default: ``log`` of the mean rfft
  power of each channel x 10-Hz band, standardised per feature, projected on 10 whitened
  principal components fitted on the originals, Gaussian kernel with Scott's bandwidth) and
  the raw time samples, each standardised and reduced by PCA. :func:`kde_details` also
  returns the nearest-original distance that drives the score: a perturbed sample whose
  masked bands were replaced by a near-zero perturbation has log power far below any real
  sample's, lies many whitened units from every original and scores in the -100s, against
  about -10 for held-out originals (numbers in notebook 21).
- :func:`generator_flops`: FLOPs of a perturbation generator's forward pass, counted with
  ``torch.utils.flop_counter.FlopCounterMode`` (paper 2, section 4.7).

Walked through in ``notebooks/20_frequency_mask_method.ipynb`` and ``21_...experiments``.
"""

from __future__ import annotations

import numpy as np
import torch

from eegnb.explain.bands import aggregate_bins, band_edges, bin_band_index, rfft_freqs
from eegnb.explain.registry import predict
from eegnb.metrics.ranking import rank_select, row_degenerate
from eegnb.utils import to_numpy


def salient_split(saliency: np.ndarray, *, seed: int = 0, return_info: bool = False):
    """Boolean ``salient`` of ``saliency``'s shape: per map (last two axes ``(ch, n_bands)``),
    the top half of the components by value (median split by average rank, tie groups kept
    whole: a component is salient when its average rank from the top is ``<= E // 2 + 0.5``).

    Degenerate maps (constant, e.g. all zero, or non-finite) get no salient component and are
    flagged. ``return_info=True`` also returns ``{"degenerate" (n,), "n_degenerate",
    "n_salient" (n,), "n_nonsalient" (n,)}`` (``n = 1`` for a single map). ``seed`` is kept for
    backward compatibility and unused: there is no random draw.
    """
    s = np.asarray(saliency, dtype=float)
    if s.ndim not in (2, 3):
        raise ValueError(f"saliency must be (ch, n_bands) or (n, ch, n_bands); got shape {s.shape}")
    flat = s.reshape(-1, s.shape[-2] * s.shape[-1]) if s.ndim == 3 else s.reshape(1, -1)
    deg = row_degenerate(flat)
    out = rank_select(np.where(np.isfinite(flat), flat, 0.0), flat.shape[1] // 2, "most")
    out[deg] = False
    out = out.reshape(s.shape)
    if not return_info:
        return out
    o = out.reshape(len(flat), -1)
    n_sal = o.sum(1)
    n_non = np.where(deg, 0, o.shape[1] - n_sal)
    return out, dict(degenerate=deg, n_degenerate=int(deg.sum()), n_salient=n_sal, n_nonsalient=n_non)


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
    ``band_edges(sfreq, n_bands, bands)``. Also returns ``rn_drop``/``rs_drop`` (``ori`` minus),
    ``n`` (samples scored), ``n_degenerate`` / ``degenerate`` (constant or non-finite maps,
    excluded at instance level; at group level ``rn``/``rs`` are NaN), ``n_salient`` /
    ``n_nonsalient`` (halves' sizes; the mean over scored samples at instance level),
    ``n_components`` and ``ori_all`` (accuracy on every sample). ``seed`` is unused (no
    random tie-breaking).
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
    salient, info = salient_split(sal, return_info=True)
    n_comp = int(salient.shape[-1] * salient.shape[-2])

    def acc(Z, yy):
        return float((predict(model, Z, device=device).argmax(1) == yy).mean()) if len(yy) else float("nan")

    X = np.asarray(to_numpy(X), dtype=np.float32)
    ori_all = acc(X, y)
    ok = ~info["degenerate"]
    common = dict(n_degenerate=info["n_degenerate"], n_components=n_comp, ori_all=ori_all)
    if level == "group":
        if not ok[0]:  # a constant group map splits nothing: no result, flagged
            nan = float("nan")
            return dict(ori=ori_all, rn=nan, rs=nan, rn_drop=nan, rs_drop=nan, degenerate=True,
                        n=n, n_salient=0, n_nonsalient=0, **common)
        Xs, ys, sal_s = X, y, salient
        sizes = dict(n_salient=int(info["n_salient"][0]), n_nonsalient=int(info["n_nonsalient"][0]))
    else:
        Xs, ys, sal_s = X[ok], y[ok], salient[ok]
        sizes = dict(
            n_salient=float(info["n_salient"][ok].mean()) if ok.any() else float("nan"),
            n_nonsalient=float(info["n_nonsalient"][ok].mean()) if ok.any() else float("nan"),
        )
    if len(ys) == 0:
        nan = float("nan")
        return dict(ori=nan, rn=nan, rs=nan, rn_drop=nan, rs_drop=nan, degenerate=True, n=0, **sizes, **common)
    ori = acc(Xs, ys)
    rn = acc(remove_components(Xs, ~sal_s, sfreq=sfreq, edges=edges), ys)
    rs = acc(remove_components(Xs, sal_s, sfreq=sfreq, edges=edges), ys)
    return dict(ori=ori, rn=rn, rs=rs, rn_drop=ori - rn, rs_drop=ori - rs,
                degenerate=bool(info["n_degenerate"] > 0), n=int(len(ys)), **sizes, **common)


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


def kde_details(original, perturbed, *, sfreq: float, n_bands: int = 10, n_components: int = 10,
                bandwidth: float | str = "scott") -> dict:
    """:func:`kde_score` in log-band-power features with what drives it: ``score`` (mean
    log-likelihood), ``nearest_sq`` (mean squared whitened distance from a perturbed sample to
    its nearest original), ``bandwidth`` and ``dim`` (PCA components).

    A Gaussian KDE's log-likelihood falls like ``-nearest_sq / (2 h^2)``: a sample a few
    whitened units from every original scores far below held-out originals (about -10 here),
    so zeroed bands (log power far below the data's) give scores of -100s."""
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KernelDensity, NearestNeighbors
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    fo = log_band_power(original, sfreq=sfreq, n_bands=n_bands)
    fp = log_band_power(perturbed, sfreq=sfreq, n_bands=n_bands)
    k = int(min(n_components, fo.shape[0] - 1, fo.shape[1]))
    if k < 1:
        raise ValueError("kde_details needs at least 2 original samples")
    proj = make_pipeline(StandardScaler(), PCA(n_components=k, whiten=True, random_state=0)).fit(fo)
    zo, zp = proj.transform(fo), proj.transform(fp)
    kde = KernelDensity(kernel="gaussian", bandwidth=bandwidth).fit(zo)
    d, _ = NearestNeighbors(n_neighbors=1).fit(zo).kneighbors(zp)
    return dict(score=float(kde.score_samples(zp).mean()), nearest_sq=float((d[:, 0] ** 2).mean()),
                bandwidth=float(kde.bandwidth_), dim=k)


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
