"""easyPEASI (Nahmias & Kontson, KDD 2020): band-wise Gaussian-noise perturbation, the
"simple perturbation" baseline of paper 2 (Wang et al., its Fig. 6).

For every channel ``c`` and band ``b`` the real and the imaginary rfft coefficients of the
bins in ``b`` on ``c`` are replaced by Gaussian noise with a mean and standard deviation
(real and imaginary parts separately), the signal is inverted with ``irfft`` and fed to the
model. Only channel ``c`` changes. The score of ``(c, b)`` is

- instance level, three readings (all returned, :class:`EasyPEASIResult`):
  ``instance`` the signed drop in the target-class probability ``p_t(x) - p_t(x_pert)``
  (the original's score; a negative value means the noise raised the probability),
  ``instance_abs`` its absolute value ``|p_t(x) - p_t(x_pert)|`` (any change counts) and
  ``instance_logit`` the drop in the target's log-odds ``z_t - logsumexp_{j != t} z_j``
  (does not saturate: a model at p = 0.999 still shows a change). ``explain("easypeasi",
  score="prob" | "abs" | "logit")`` picks one;
- group level: the drop in accuracy over the samples (:func:`easypeasi_group`, ``(ch, n_bands)``).

Noise statistics: ``noise_stats="sample"`` (default, the original code's choice) takes the
mean/std of the band's coefficients in that sample and channel, so the noise keeps the band's
power: on evidence carried by band *power* easyPEASI then sees almost nothing. ``"dataset"``
pools them over all samples passed in (per channel and band), which replaces a sample's band
power by the pooled one and so removes between-sample (and between-class) power differences.

Batched inference: the perturbed copies of many samples (every channel of ``rows`` samples,
``rows = forward_batch // ch``) are stacked into one model call; the cost is one forward pass
per sample, channel, band and repeat (``n * ch * n_bands * n_repeats``, plus ``n`` for the
unperturbed baseline); :attr:`EasyPEASIResult.n_forward` reports it.
Default bands: the shared layout of :mod:`eegnb.explain.bands` (10 equal-width bands from 0 Hz
to Nyquist); ``bands="easypeasi"`` gives the easyPEASI paper's named bands (delta 1-4, theta
4-8, alpha 8-12, low beta 12-16, beta 16-25, gamma 25-40 Hz). Walked through in
``notebooks/20_frequency_mask_method.ipynb``.

Hand-written: no library implements easyPEASI.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from eegnb.explain.bands import EASYPEASI_BANDS, band_edges, band_labels, bin_band_index, rfft_freqs  # noqa: F401
from eegnb.explain.registry import check_target, frozen, register
from eegnb.utils import model_device, to_numpy

SCORES = ("prob", "abs", "logit")


@dataclass
class EasyPEASIResult:
    """instance ``(n, ch, n_bands)`` signed drop in target-class probability (mean over
    repeats); instance_abs the mean absolute drop; instance_logit the mean drop in the target's
    log-odds; group ``(ch, n_bands)`` drop in accuracy against ``y`` (or against the target
    when no ``y``); acc ``float`` unperturbed accuracy; edges ``(n_bands, 2)`` Hz; n_forward:
    number of single-sample forward passes used (baseline included); noise_stats the variant."""

    instance: np.ndarray
    group: np.ndarray
    acc: float
    edges: np.ndarray
    n_forward: int
    instance_abs: np.ndarray | None = None
    instance_logit: np.ndarray | None = None
    noise_stats: str = "sample"

    def score(self, kind: str = "prob") -> np.ndarray:
        """Instance map ``(n, ch, n_bands)`` for ``kind`` in :data:`SCORES`."""
        if kind not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {kind!r}")
        return {"prob": self.instance, "abs": self.instance_abs, "logit": self.instance_logit}[kind]

    @property
    def band_labels(self) -> list[str]:
        return band_labels(self.edges)


def _edges(sfreq: float, n_bands, bands) -> np.ndarray:
    return band_edges(sfreq, n_bands, bands)  # None, None: the shared default layout


def log_odds(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Target log-odds ``z_t - logsumexp_{j != t} z_j`` of ``logits (..., k)``, ``target`` broadcast
    to ``logits.shape[:-1]``."""
    t = target.expand(logits.shape[:-1]).unsqueeze(-1)
    zt = logits.gather(-1, t)[..., 0]
    others = logits.scatter(-1, t, float("-inf"))
    return zt - torch.logsumexp(others, -1)


def _band_stats(Xf: torch.Tensor, sel: torch.Tensor, pooled: bool):
    """Mean and std of the real and imaginary parts over the selected bins: ``(n, ch)`` each,
    or ``(1, ch)`` pooled over samples."""
    re, im = Xf.real[..., sel], Xf.imag[..., sel]
    dims = (0, 2) if pooled else (2,)
    kw = dict(dim=dims, keepdim=False)
    stats = [re.mean(**kw), re.std(**kw, correction=0), im.mean(**kw), im.std(**kw, correction=0)]
    return [s.unsqueeze(0) if pooled else s for s in stats]


@torch.no_grad()
def easypeasi_scores(
    model: nn.Module,
    X,
    target=None,
    *,
    sfreq: float,
    y=None,
    n_bands: int | None = None,
    bands=None,
    n_repeats: int = 1,
    noise_stats: str = "sample",
    forward_batch: int = 512,
    seed: int = 0,
    device=None,
    progress: bool = False,
) -> EasyPEASIResult:
    """Instance- and group-level easyPEASI scores of ``model`` on ``X (n, ch, t)``.

    ``target (n,)`` (default: predicted class) is the class whose probability drop is scored;
    ``y (n,)`` the labels for the group-level accuracy drop (default: ``target``). See the
    module docstring for ``noise_stats`` and the bands.
    """
    from eegnb.progress import tqdm

    if sfreq is None or sfreq <= 0:
        raise ValueError(f"sfreq must be a positive sampling rate in Hz, got {sfreq!r}")
    if noise_stats not in ("sample", "dataset"):
        raise ValueError(f"noise_stats must be 'sample' or 'dataset', got {noise_stats!r}")
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be >= 1, got {n_repeats}")
    dev = torch.device(device) if device is not None else model_device(model)
    X = torch.as_tensor(to_numpy(X), dtype=torch.float32)
    if X.ndim != 3 or len(X) == 0:
        raise ValueError(f"X must have shape (n, ch, t) with n >= 1; got {tuple(X.shape)}")
    n, n_ch, n_t = X.shape
    edges = _edges(sfreq, n_bands, bands)
    bidx = bin_band_index(rfft_freqs(n_t, sfreq), edges)
    model = model.to(dev)
    gen = torch.Generator().manual_seed(seed)
    with frozen(model):
        z0 = torch.cat([model(X[i : i + forward_batch].to(dev)).float().cpu() for i in range(0, n, forward_batch)])
        p0 = torch.softmax(z0, 1)
        # check_target refuses negative indices, which p0[:, tgt] would take from the end
        tgt = p0.argmax(1) if target is None else check_target(target, n, p0.shape[1])
        labels = tgt if y is None else torch.as_tensor(to_numpy(y)).long()
        if labels.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {tuple(labels.shape)}")
        pt0 = p0[torch.arange(n), tgt]
        lo0 = log_odds(z0, tgt)
        acc0 = float((p0.argmax(1) == labels).float().mean())
        Xf = torch.fft.rfft(X, dim=-1)
        inst = torch.zeros(n, n_ch, len(edges))
        inst_abs, inst_lo = torch.zeros_like(inst), torch.zeros_like(inst)
        group = torch.zeros(n_ch, len(edges))
        rows = max(1, forward_batch // n_ch)  # samples per model call; each carries all channels
        ar = torch.arange(n_ch)
        jobs = [(b, r) for b in range(len(edges)) if (bidx == b).any() for r in range(n_repeats)]
        for b, _r in tqdm(jobs, desc="easyPEASI bands", leave=False, disable=not progress):
            sel = torch.as_tensor(bidx == b)
            stats = _band_stats(Xf, sel, pooled=noise_stats == "dataset")
            k = int(sel.sum())
            correct = torch.zeros(n_ch)
            for i in range(0, n, rows):
                xf = Xf[i : i + rows]
                m = len(xf)
                s = [st if st.shape[0] == 1 else st[i : i + rows] for st in stats]
                noise = torch.complex(
                    s[0][..., None] + s[1][..., None] * torch.randn(m, n_ch, k, generator=gen),
                    s[2][..., None] + s[3][..., None] * torch.randn(m, n_ch, k, generator=gen),
                )
                # Channel c's change only: delta_c = irfft(noise - original) on the band's bins.
                dspec = torch.zeros_like(xf)
                dspec[..., sel] = noise - xf[..., sel]
                delta = torch.fft.irfft(dspec, n=n_t, dim=-1)  # (m, ch, t)
                xp = X[i : i + m].unsqueeze(1).repeat(1, n_ch, 1, 1)  # (m, c_perturbed, ch, t)
                xp[:, ar, ar, :] += delta
                z = model(xp.reshape(m * n_ch, n_ch, n_t).to(dev)).float().cpu().reshape(m, n_ch, -1)
                tg = tgt[i : i + m, None]
                pt = torch.softmax(z, -1).gather(-1, tg.expand(m, n_ch)[..., None])[..., 0]
                d = pt0[i : i + m, None] - pt
                inst[i : i + m, :, b] += d
                inst_abs[i : i + m, :, b] += d.abs()
                inst_lo[i : i + m, :, b] += lo0[i : i + m, None] - log_odds(z, tg)
                correct += (z.argmax(2) == labels[i : i + m, None]).float().sum(0)
            group[:, b] += acc0 - correct / n
        for a in (inst, inst_abs, inst_lo, group):
            a /= n_repeats
    n_forward = n + n * n_ch * int(sum((bidx == b).any() for b in range(len(edges)))) * n_repeats
    return EasyPEASIResult(inst.numpy(), group.numpy(), acc0, edges, n_forward, inst_abs.numpy(), inst_lo.numpy(),
                           noise_stats)


def easypeasi_group(model: nn.Module, X, y, *, sfreq: float, **kw) -> np.ndarray:
    """Group-level easyPEASI map ``(ch, n_bands)``: the accuracy drop on ``(X, y)`` when the
    band of the channel is replaced by matched Gaussian noise (paper 2, Fig. 6)."""
    return easypeasi_scores(model, X, sfreq=sfreq, y=y, **kw).group


@register(
    "easypeasi",
    domain="frequency",
    signed=True,
    needs_sfreq=True,
    description="drop in target-class probability when a channel's band is replaced by matched Gaussian noise",
    paper="paper 2 baseline (Nahmias & Kontson 2020, easyPEASI)",
    defaults=dict(n_bands=10, bands=None, n_repeats=1, noise_stats="sample", score="prob", forward_batch=512, seed=0),
)
def easypeasi(model: nn.Module, X: torch.Tensor, target: torch.Tensor, *, sfreq: float, score: str = "prob", **kw):
    """Instance-level easyPEASI ``(n, ch, n_bands)`` and info ``{"band_edges" (n_bands, 2) Hz}``;
    ``score`` in :data:`SCORES` (signed probability drop, absolute drop, log-odds drop);
    keywords as :func:`easypeasi_scores` (``n_bands``/``bands``, ``n_repeats``,
    ``noise_stats``, ``forward_batch``, ``seed``)."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    kw.setdefault("device", X.device)
    res = easypeasi_scores(model, X, target, sfreq=sfreq, **kw)
    return res.score(score), dict(band_edges=np.asarray(res.edges, float))
