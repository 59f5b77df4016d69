"""Faithfulness by deletion: does removing what a map ranks first hurt the model first?

One engine serves paper 1 (channel / time-step removal, ``eegnb.metrics.removal``) and paper 2
(channel x band components in the rfft, ``eegnb.metrics.frequency_removal``).

- :func:`deletion_curve`: per-sample score of class ``y`` (probability by default) while a
  growing fraction of elements is removed, most relevant first (``order="most"``, MoRF /
  deletion) or least relevant first (``"least"``, LeRF). Elements: channels (the map's mean
  over time ranks them), time steps (mean over channels), or channel x band components of band
  maps ``(n, ch, n_bands)``. A faithful map makes the ``"most"`` curve fall early and the
  ``"least"`` curve stay high.
- :func:`faithfulness_area`: areas under both curves over fraction in [0, 1] (trapezoid rule)
  and their ``gap = area_least - area_most``. Higher gap = more faithful; range [-1, 1] for
  probability or accuracy scores; 0 for a map that ranks nothing (a constant map gives two
  identical straight lines). Compare against a random map (``eegnb.metrics.controls``).

Ties: elements with equal scores form one tie group, removed together; the curve between the
group's boundaries is linearly interpolated in the removal count ``k`` (``k`` may be
fractional on the ``fraction`` grid, and is interpolated the same way between integers). No
random tie-breaking; ``seed`` only feeds noise replacements.

Replacements (what a removed element becomes): ``"zero"``; ``"mean"`` (the sample's own
channel mean over time); ``"context"`` (paper 1's temporal/spatial context perturbation,
``eegnb.explain.context_mask.context_perturbation``); for ``axis="band"`` ``"zero"`` zeroes the
component's rfft bins (as paper 2's RN/RS game) and ``"band_noise"`` replaces them by complex
Gaussian noise with the power of that channel and band pooled over the dataset ``X``; or a
callable ``replace(X (m, ch, t), remove (m, *element_shape) bool) -> (m, ch, t)``. Every
replacement shifts the input distribution, which a deletion score cannot tell apart from
lost evidence (Hooker et al. 2019, ROAR); comparing maps under the same replacement, with a
random control, keeps the comparison fair.

References: Samek et al. 2017 (region perturbation, IEEE TNNLS); Bach et al. 2015 (pixel
flipping); Quantus ``RegionPerturbation`` / ``PixelFlipping`` (Hedström et al. 2023).
Hand-written: Quantus perturbs image patches and draws ties by sort position; the channel /
time / rfft-band elements, whole-tie-group removal and batched per-sample curves are not in any
library.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from eegnb.metrics.ranking import row_degenerate, sorted_positions, tie_breakpoints
from eegnb.utils import get_device, to_numpy

AXES = ("channel", "time", "band")
SCORES = ("probability", "accuracy", "logit")


def element_scores(maps: np.ndarray, axis: str = "channel", *, absolute: bool = False) -> np.ndarray:
    """Per-sample element scores ``(n, e)``: channels ``(n, ch)`` (mean over time), time steps
    ``(n, t)`` (mean over channels) of ``(n, ch, t)`` maps, or the flattened channel x band
    components ``(n, ch * n_bands)`` of band maps. ``absolute`` takes ``|map|`` first."""
    m = np.asarray(maps, dtype=float)
    if m.ndim != 3:
        raise ValueError(f"maps must have shape (n, ch, t) or (n, ch, n_bands), got {m.shape}")
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, got {axis!r}")
    if absolute:
        m = np.abs(m)
    if axis == "channel":
        return m.mean(2)
    if axis == "time":
        return m.mean(1)
    return m.reshape(len(m), -1)


def _band_setup(X: np.ndarray, sfreq, edges):
    from eegnb.explain.bands import bin_band_index, rfft_freqs

    if sfreq is None or edges is None:
        raise ValueError("axis='band' needs sfreq= (Hz) and edges= (n_bands, 2), the edges of the map's method")
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"edges must be (n_bands, 2) in Hz, got shape {edges.shape}")
    return edges, bin_band_index(rfft_freqs(X.shape[-1], float(sfreq)), edges)


class _Remover:
    """Builds perturbed copies: ``self(idx (m,), remove (m, e) bool) -> (m, ch, t)`` float32."""

    def __init__(self, X, axis, replace, *, sfreq=None, edges=None, seed=0, context_kw=None):
        self.X, self.axis, self.replace = X, axis, replace
        n, n_ch, n_t = X.shape
        self.shape = {"channel": (n_ch,), "time": (n_t,)}.get(axis)
        if axis == "band":
            self.edges, self.bidx = _band_setup(X, sfreq, edges)
            self.shape = (n_ch, len(self.edges))
            self.Xf = np.fft.rfft(X.astype(np.float64), axis=-1)
            if replace == "band_noise":
                # complex Gaussian with each (channel, band)'s power pooled over samples and bins
                pw = np.abs(self.Xf) ** 2
                sd = np.zeros((n_ch, len(self.bidx)))
                for b in range(len(self.edges)):
                    sel = self.bidx == b
                    if sel.any():
                        sd[:, sel] = np.sqrt(pw[:, :, sel].mean((0, 2)) / 2.0)[:, None]
                rng = np.random.default_rng(seed)
                z = rng.standard_normal((2,) + self.Xf.shape)
                self.noise = sd[None] * (z[0] + 1j * z[1])
            elif replace != "zero" and not callable(replace):
                raise ValueError(f"axis='band' supports replace='zero', 'band_noise' or a callable, got {replace!r}")
        else:
            if replace == "mean":
                self.fill = np.broadcast_to(X.mean(-1, keepdims=True), X.shape)
            elif replace == "context":
                from eegnb.explain.context_mask import context_perturbation

                with torch.no_grad():
                    self.fill = context_perturbation(torch.as_tensor(X), **(context_kw or {})).numpy()
            elif replace == "zero":
                self.fill = None
            elif not callable(replace):
                raise ValueError(
                    f"replace must be 'zero', 'mean', 'context' or a callable for axis={axis!r}, got {replace!r}"
                )

    def __call__(self, idx: np.ndarray, remove: np.ndarray) -> np.ndarray:
        Xb = self.X[idx]
        rem = remove.reshape((len(idx),) + self.shape)
        if callable(self.replace):
            out = np.asarray(self.replace(Xb.copy(), rem), dtype=np.float32)
            if out.shape != Xb.shape:
                raise ValueError(f"replace callable returned {out.shape}, expected {Xb.shape}")
            return out
        if self.axis == "band":
            keep_b = np.concatenate([~rem, np.ones(rem.shape[:-1] + (1,), bool)], axis=-1)
            keep = keep_b[..., self.bidx]  # bins outside every band (index -1) are kept
            Xf = self.Xf[idx]
            Zf = Xf * keep if self.replace == "zero" else np.where(keep, Xf, self.noise[idx])
            return np.fft.irfft(Zf, n=self.X.shape[-1], axis=-1).astype(np.float32)
        full = rem[:, :, None] if self.axis == "channel" else rem[:, None, :]
        full = np.broadcast_to(full, Xb.shape)
        fill = 0.0 if self.fill is None else self.fill[idx]
        return np.where(full, fill, Xb).astype(np.float32)


@torch.no_grad()
def _score(model, Xp: np.ndarray, yb: np.ndarray, score: str, dev) -> np.ndarray:
    out = model(torch.as_tensor(Xp, dtype=torch.float32, device=dev)).float()
    yt = torch.as_tensor(yb, device=dev).long()
    if score == "logit":
        v = out.gather(1, yt[:, None])[:, 0]
    elif score == "probability":
        v = torch.softmax(out, 1).gather(1, yt[:, None])[:, 0]
    else:
        v = (out.argmax(1) == yt).float()
    return v.cpu().numpy().astype(float)


def curve_at(
    model,
    X: np.ndarray,
    y: np.ndarray,
    scores: np.ndarray,
    ks,
    remover: Callable,
    *,
    order: str = "most",
    score: str = "probability",
    device=None,
    batch_size: int = 256,
) -> np.ndarray:
    """Scores ``(n, len(ks))`` after removing ``ks`` (real counts) elements ranked by
    ``scores (n, e)``; whole tie groups, linear interpolation in between; NaN rows for
    non-finite scores. The engine behind :func:`deletion_curve` and the removal games."""
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    dev = get_device(device)
    ks = np.atleast_1d(np.asarray(ks, dtype=float))
    n, e = scores.shape
    if np.any(ks < 0) or np.any(ks > e):
        raise ValueError(f"removal counts must be in [0, {e}], got {ks}")
    finite = np.isfinite(scores).all(1)
    pos, bps = sorted_positions(np.where(finite[:, None], scores, 0.0), order)
    plans, jobs_i, jobs_b = [], [], []
    for i in range(n):
        if not finite[i]:
            plans.append(None)
            continue
        lo, hi, w = tie_breakpoints(bps[i], ks)
        need = np.unique(np.concatenate([lo, hi]))
        plans.append((need, lo, hi, w))
        jobs_i.append(np.full(len(need), i))
        jobs_b.append(need)
    out = np.full((n, len(ks)), np.nan)
    if not jobs_i:
        return out
    ji, jb = np.concatenate(jobs_i), np.concatenate(jobs_b)
    vals = np.empty(len(ji))
    was = model.training
    model = model.to(dev).eval()
    try:
        for s in range(0, len(ji), batch_size):
            ib, kb = ji[s : s + batch_size], jb[s : s + batch_size]
            Xp = remover(ib, pos[ib] < kb[:, None])  # perturbed copies of many samples, one pass
            vals[s : s + batch_size] = _score(model, Xp, y[ib], score, dev)
    finally:
        model.train(was)
    start = 0
    for i, plan in enumerate(plans):
        if plan is None:
            continue
        need, lo, hi, w = plan
        f = vals[start : start + len(need)]
        start += len(need)
        out[i] = (1 - w) * f[np.searchsorted(need, lo)] + w * f[np.searchsorted(need, hi)]
    return out


def _check_inputs(X, y, maps, axis, sfreq, edges):
    X = np.asarray(to_numpy(X), dtype=np.float32)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n, ch, t), got {X.shape}")
    y = np.asarray(to_numpy(y))
    if y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},) to match X, got {y.shape}")
    maps = np.asarray(maps, dtype=float)
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}, got {axis!r}")
    if axis == "band":
        edges_, _ = _band_setup(X, sfreq, edges)
        want = X.shape[:2] + (len(edges_),)
        if maps.shape != want:
            raise ValueError(f"band maps must have shape (n, ch, n_bands) = {want}, got {maps.shape}")
    elif maps.shape != X.shape:
        raise ValueError(f"maps must have X's shape {X.shape} for axis={axis!r}, got {maps.shape}")
    return X, y, maps


def deletion_curve(
    model: torch.nn.Module,
    X,
    y,
    maps: np.ndarray,
    *,
    axis: str = "channel",
    order: str = "most",
    n_steps: int | None = None,
    replace: str | Callable = "zero",
    absolute: bool = False,
    sfreq: float | None = None,
    edges: np.ndarray | None = None,
    score: str = "probability",
    device=None,
    batch_size: int = 256,
    seed: int = 0,
    scores: np.ndarray | None = None,
    context_kw: dict | None = None,
) -> dict:
    """Per-sample deletion curves of ``model`` on ``X (n, ch, t)``, labels/targets ``y (n,)``.

    maps: ``(n, ch, t)`` for ``axis="channel"``/``"time"``, ``(n, ch, n_bands)`` for
    ``"band"`` (then ``sfreq`` and the map's band ``edges (n_bands, 2)`` are required).
    order: ``"most"`` (most relevant removed first; a faithful map's curve drops early) or
    ``"least"``. n_steps: the fraction grid ``linspace(0, 1, n_steps + 1)``; default one step
    per element when there are <= 64 elements, else 20. score: ``"probability"`` of class
    ``y``, ``"accuracy"`` (0/1) or ``"logit"``. scores: optional precomputed element scores
    ``(n, e)`` (e.g. group-averaged) that replace the ranking derived from ``maps``.
    context_kw: ``temporal_kernel``/``spatial_kernel`` for ``replace="context"``.

    Returns ``{"fraction" (n_steps + 1,), "k" (n_steps + 1,) removal counts, "curve"
    (n, n_steps + 1), "n_elements", "degenerate" (n,) (constant or non-finite ranking: a
    constant one gives the straight line from no to full removal, a non-finite one NaN),
    "n_degenerate", "axis", "order", "replace", "score"}``.
    """
    X, y, maps = _check_inputs(X, y, maps, axis, sfreq, edges)
    s = element_scores(maps, axis, absolute=absolute) if scores is None else np.asarray(scores, float)
    if scores is not None:
        want = (len(X), element_scores(maps[:1], axis).shape[1])
        if s.shape != want:
            raise ValueError(f"scores must have shape (n, elements) = {want}, got {s.shape}")
    e = s.shape[1]
    if n_steps is None:
        n_steps = e if e <= 64 else 20
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    fraction = np.linspace(0.0, 1.0, int(n_steps) + 1)
    remover = _Remover(X, axis, replace, sfreq=sfreq, edges=edges, seed=seed, context_kw=context_kw)
    curve = curve_at(model, X, y, s, fraction * e, remover, order=order, score=score, device=device, batch_size=batch_size)
    deg = row_degenerate(s)
    return dict(
        fraction=fraction,
        k=fraction * e,
        curve=curve,
        n_elements=int(e),
        degenerate=deg,
        n_degenerate=int(deg.sum()),
        axis=axis,
        order=order,
        replace=replace if isinstance(replace, str) else "callable",
        score=score,
    )


def faithfulness_area(model: torch.nn.Module, X, y, maps: np.ndarray, **kw) -> dict:
    """Areas under the most-first and least-first deletion curves and their gap, per sample.

    Takes :func:`deletion_curve`'s keywords except ``order``. Returns ``{"area_most" (n,),
    "area_least" (n,), "gap" (n,) = area_least - area_most, "fraction", "curve_most",
    "curve_least", "degenerate", "n_degenerate"}``; areas by the trapezoid rule over fraction in
    [0, 1]. Higher gap = more faithful; range [-1, 1] for probability/accuracy scores; a map
    that ranks nothing scores 0; negating a map flips the gap's sign. References: Samek et al.
    2017 (region perturbation, AOPC); Quantus RegionPerturbation / PixelFlipping; Hooker et al.
    2019 (ROAR) on the distribution shift that removal itself causes.
    """
    if "order" in kw:
        raise ValueError("faithfulness_area runs both orders; do not pass order=")
    most = deletion_curve(model, X, y, maps, order="most", **kw)
    least = deletion_curve(model, X, y, maps, order="least", **kw)
    f = most["fraction"]
    a_most = np.trapezoid(most["curve"], f, axis=1)
    a_least = np.trapezoid(least["curve"], f, axis=1)
    return dict(
        area_most=a_most,
        area_least=a_least,
        gap=a_least - a_most,
        fraction=f,
        curve_most=most["curve"],
        curve_least=least["curve"],
        degenerate=most["degenerate"],
        n_degenerate=most["n_degenerate"],
    )
