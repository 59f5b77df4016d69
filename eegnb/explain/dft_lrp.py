"""DFT-LRP: relevance on frequency (and time-frequency) bins through a virtual inspection layer.

After Vielhaben, Lapuschkin, Montavon & Samek (2024), "Explainable AI for time series via
virtual inspection layers" (Pattern Recognition 150:110309). An exact discrete Fourier
transform and its inverse are prepended to the model as two linear layers,
``x -> DFT -> IDFT -> model``. Their product is the identity, so the wrapped model computes
exactly what the model computes; LRP through the model and then through the IDFT layer puts
the relevance on the Fourier coefficients, i.e. on frequency bins per channel. With a
short-time DFT (windowed frames, its inverse by the canonical dual frame) relevance lands on
time-frequency bins. Walked through in ``notebooks/31_crp_frequency_topography``.

Representation: for ``n_times = N`` the DFT layer maps ``(..., N)`` to the real and imaginary
parts of the one-sided spectrum, ``(..., 2 * (N // 2 + 1))`` (``np.fft.rfft`` convention,
bins ``np.fft.rfftfreq(N, 1 / sfreq)``); the relevance of a bin is the sum of the relevance of
its real and imaginary parts. The IDFT layer gets the LRP-0 rule (``epsilon=1e-9``), which is
exact for a bias-free linear map: the bins' relevance sums to the relevance at the model input.

Registered method ``"dft_lrp"`` (``domain="frequency"``, ``signed=True``, ``needs_sfreq=True``):
relevance per channel and band ``(n, ch, n_bands)`` over :func:`eegnb.explain.bands.band_edges`
(sum of the signed bin relevances in each band); with ``spectrum=True`` the full per-bin
spectrum ``(n, ch, n_times // 2 + 1)``. The time-frequency maps come from :class:`DFTLRP`.

A check that can fail: models that read only one band (``eegnb.experiments.crp.BandReader``)
get most LRP-epsilon relevance in that band and almost none in another (``tests/test_dft_lrp.py``,
notebook 31); with z+ they do not.

Hand-written (no library ships the virtual inspection layer): the DFT / short-time DFT matrices
as ``nn.Linear`` layers and the wrapper; LRP itself is zennit (through ``eegnb.explain.lrp``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from eegnb.explain import lrp
from eegnb.explain.bands import DEFAULT_N_BANDS, aggregate_bins, band_edges, rfft_freqs
from eegnb.explain.registry import frozen, register

__all__ = [
    "dft_matrices",
    "stdft_matrices",
    "VirtualInspection",
    "DFTLRP",
    "frequency_relevance",
]

#: LRP-0 on the inspection layers: a tiny stabiliser only guards against exact zeros.
INSPECTION_EPSILON = 1e-9


def dft_matrices(n_times: int) -> tuple[np.ndarray, np.ndarray]:
    """Real DFT ``F (2K, N)`` and its inverse ``G (N, 2K)``, ``K = N // 2 + 1``; ``G @ F = I``.

    ``F @ x`` stacks ``Re(rfft(x))`` and ``Im(rfft(x))``; ``G`` is ``irfft`` on that stack.
    """
    if n_times < 2:
        raise ValueError(f"n_times must be >= 2, got {n_times}")
    eye = np.eye(n_times)
    spec = np.fft.rfft(eye, axis=0)  # (K, N): column j is the spectrum of unit impulse j
    F = np.concatenate([spec.real, spec.imag], axis=0)
    K = spec.shape[0]
    coef = np.eye(2 * K)
    G = np.fft.irfft(coef[:K] + 1j * coef[K:], n=n_times, axis=0)  # (N, 2K)
    return F, G


def stdft_matrices(n_times: int, sfreq: float, window_s: float = 0.5, hop_s: float | None = None):
    """Short-time DFT ``F (n_frames * 2K, N)``, inverse ``G (N, n_frames * 2K)``, frame centres (s), bin freqs (Hz).

    Frames of ``window_s`` seconds (periodic Hann window) every ``hop_s`` (default half a
    window), centred from the first to (at least) the last sample; frames reaching beyond the
    signal are zero-padded, so every sample is covered by overlapping windows and the edges are
    not amplified. ``G`` is the canonical dual frame (pseudo-inverse), so ``G @ F = I`` exactly.
    """
    L = int(round(window_s * sfreq))
    if L < 2 or L > n_times:
        raise ValueError(f"window_s={window_s} s gives {L} samples; need 2 <= window <= n_times={n_times}")
    H = int(round((hop_s if hop_s is not None else window_s / 2) * sfreq))
    if H < 1 or H > L // 2:
        raise ValueError(f"hop_s must give 1 <= hop <= half a window ({L // 2} samples), got {H}")
    starts = np.arange(-(L // 2), n_times - L // 2 + H, H)
    starts = starts[starts + L // 2 <= n_times - 1 + H]
    win = np.hanning(L + 1)[:-1]  # periodic Hann: overlapping windows sum to a constant
    Fw, _ = dft_matrices(L)
    rows = []
    for s in starts:
        block = np.zeros((Fw.shape[0], n_times))
        lo, hi = max(s, 0), min(s + L, n_times)
        block[:, lo:hi] = (Fw * win[None, :])[:, lo - s : hi - s]
        rows.append(block)
    F = np.concatenate(rows, axis=0)
    G = np.linalg.pinv(F)
    centres = (starts + L / 2) / sfreq
    return F, G, centres, rfft_freqs(L, sfreq)


class VirtualInspection(nn.Module):
    """``model`` with an exact (short-time) DFT / inverse pair in front: ``model(idft(dft(x)))``.

    Input and output are the model's: ``(n, ch, t)`` -> logits. The inner model is ``.model``
    (its module names gain the prefix ``"model."``). ``kind="dft"`` or ``"stdft"``
    (``window_s``, ``hop_s``). ``n_times``, ``sfreq`` and ``n_chans`` default to the model's
    attributes; ``n_chans`` is needed (only) to trace the BatchNorms of a model that has no
    ``n_chans``. Attributes ``freqs`` (Hz), ``n_bins``, ``times`` (frame centres in s for
    ``"stdft"``).
    """

    def __init__(self, model: nn.Module, *, sfreq: float | None = None, n_times: int | None = None,
                 kind: str = "dft", window_s: float = 0.5, hop_s: float | None = None,
                 n_chans: int | None = None):
        super().__init__()
        if kind not in ("dft", "stdft"):
            raise ValueError(f"kind must be 'dft' or 'stdft', got {kind!r}")
        n_times = int(n_times or getattr(model, "n_times", 0))
        sfreq = float(sfreq or getattr(model, "sfreq", 0))
        if n_times < 2 or sfreq <= 0:
            raise ValueError("VirtualInspection needs n_times and sfreq (Hz), from the model or as arguments")
        self.kind, self.n_times, self.sfreq = kind, n_times, sfreq
        if n_chans is None and hasattr(model, "n_chans"):
            n_chans = model.n_chans
        if n_chans is not None:
            self.n_chans = int(n_chans)
        if hasattr(model, "n_classes"):
            self.n_classes = model.n_classes
        if kind == "dft":
            F, G = dft_matrices(n_times)
            self.freqs, self.times = rfft_freqs(n_times, sfreq), None
        else:
            F, G, self.times, self.freqs = stdft_matrices(n_times, sfreq, window_s, hop_s)
        self.n_bins = len(self.freqs)
        p = next(model.parameters(), None)
        dt = dict(dtype=torch.float32, device=p.device if p is not None else None)
        self.dft = nn.Linear(n_times, F.shape[0], bias=False).to(**dt)
        self.idft = nn.Linear(F.shape[0], n_times, bias=False).to(**dt)
        with torch.no_grad():
            self.dft.weight.copy_(torch.as_tensor(F, **dt))
            self.idft.weight.copy_(torch.as_tensor(G, **dt))
        self.dft.requires_grad_(False)
        self.idft.requires_grad_(False)
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(self.idft(self.dft(x)))

    def batchnorm_pairs(self) -> list[tuple[str, str]]:
        """The inner model's BatchNorm pairs, prefixed ``model.`` (traced on zeros ``(1, n_chans, n_times)``)."""
        example = None
        if hasattr(self, "n_chans"):
            example = torch.zeros(1, self.n_chans, self.n_times, device=self.dft.weight.device)
        return [(f"model.{a}" if isinstance(a, str) else tuple(f"model.{n}" for n in a), f"model.{b}")
                for a, b in lrp.batchnorm_pairs(self.model, example)]

    def lrp_rules(self) -> list[tuple]:
        """LRP-0 on the inspection layers (exact for a bias-free linear map), plus the model's rules."""
        own = [("idft", lrp.epsilon_rule(INSPECTION_EPSILON)), ("dft", lrp.epsilon_rule(INSPECTION_EPSILON))]
        inner = list(self.model.lrp_rules()) if hasattr(self.model, "lrp_rules") else []
        return own + [((f"model.{k}" if isinstance(k, str) else k), h) for k, h in inner]

    def fold(self, coef_relevance: np.ndarray) -> np.ndarray:
        """Coefficient relevance ``(..., 2K)`` (or ``(..., frames * 2K)``) -> bin relevance ``(..., [frames,] K)``."""
        r = np.asarray(coef_relevance)
        if self.kind == "dft":
            return r[..., : self.n_bins] + r[..., self.n_bins :]
        r = r.reshape(r.shape[:-1] + (-1, 2, self.n_bins))
        return r.sum(-2)


class _Capture:
    """Forward hook on a module: keeps the gradient (here: the relevance) of its output."""

    def __init__(self):
        self.value = None

    def __call__(self, module, inputs, output):
        if output.requires_grad:
            output.register_hook(self._store)

    def _store(self, grad):
        self.value = grad.detach()


def frequency_relevance(vi: VirtualInspection, X, target=None, composite=None, **composite_kw) -> tuple[np.ndarray, np.ndarray]:
    """LRP through ``vi``: ``(bin relevance (n, ch, [frames,] n_bins), time relevance (n, ch, t))``.

    The time relevance is the relevance at the model input (after the inverse transform). With
    ``composite=None`` a composite is made by :func:`eegnb.explain.lrp.make_composite` from
    ``composite_kw`` (``rule``, ``epsilon``, ``alpha``, ``beta``, ``zero_params``, ``canonize``).
    """
    if composite is None:
        composite = lrp.make_composite(model=vi, **composite_kw)
    cap_f, cap_t = _Capture(), _Capture()
    h = [vi.dft.register_forward_hook(cap_f), vi.idft.register_forward_hook(cap_t)]
    try:
        lrp.lrp_relevance(vi, X, target, composite)
    finally:
        for hh in h:
            hh.remove()
    if cap_f.value is None or cap_t.value is None:  # pragma: no cover - guards against hook changes
        raise RuntimeError("no relevance reached the inspection layer")
    return vi.fold(cap_f.value.cpu().numpy()), cap_t.value.cpu().numpy()


class DFTLRP:
    """Frequency-domain LRP of ``model``: per-bin spectra, bands and time-frequency maps.

    >>> d = DFTLRP(model, sfreq=160.0, rule="epsilon")
    >>> R = d.spectrum(X)              # (n, ch, n_times // 2 + 1) over d.freqs (Hz)
    >>> B = d.bands(X, bands=EEG_BANDS)  # (n, ch, 5)
    >>> TF = d.time_frequency(X)       # (n, ch, n_frames, n_bins) over d.times (s), d.tf_freqs (Hz)

    ``rule`` and keywords as :func:`eegnb.explain.lrp.make_composite`. ``target``: int or
    ``(n,)``, default the predicted class. Relevance is signed (positive: for the target).
    """

    def __init__(self, model: nn.Module, sfreq: float | None = None, *, rule: str = "epsilon",
                 window_s: float = 0.5, hop_s: float | None = None, **rule_kw):
        self.model = model
        self.sfreq = float(sfreq or getattr(model, "sfreq", 0))
        if self.sfreq <= 0:
            raise ValueError("DFTLRP needs sfreq (Hz)")
        self.rule, self.rule_kw = rule, rule_kw
        self.window_s, self.hop_s = window_s, hop_s
        self._vi: dict[tuple, VirtualInspection] = {}

    def inspection(self, n_times: int, kind: str = "dft", n_chans: int | None = None) -> VirtualInspection:
        """The (cached) :class:`VirtualInspection` for inputs ``(n, n_chans, n_times)``."""
        key = (kind, int(n_times), n_chans)
        if key not in self._vi:
            self._vi[key] = VirtualInspection(self.model, sfreq=self.sfreq, n_times=n_times, kind=kind,
                                              window_s=self.window_s, hop_s=self.hop_s, n_chans=n_chans)
        return self._vi[key]

    def freqs(self, n_times: int) -> np.ndarray:
        """Bin frequencies (Hz) of :meth:`spectrum` for inputs of ``n_times`` samples."""
        return rfft_freqs(n_times, self.sfreq)

    def _run(self, X, target, kind):
        x = X if isinstance(X, torch.Tensor) else torch.as_tensor(np.asarray(X), dtype=torch.float32)
        if x.ndim != 3:
            raise ValueError(f"X must have shape (n, ch, t); got {tuple(x.shape)}")
        vi = self.inspection(x.shape[-1], kind, n_chans=x.shape[1])
        comp = lrp.make_composite(self.rule, model=vi, **self.rule_kw)
        with frozen(vi):
            return frequency_relevance(vi, x, target, comp)

    def spectrum(self, X, target=None) -> np.ndarray:
        """Relevance per channel and frequency bin ``(n, ch, n_times // 2 + 1)``."""
        return self._run(X, target, "dft")[0]

    def bands(self, X, target=None, *, n_bands: int = DEFAULT_N_BANDS, bands=None) -> np.ndarray:
        """Relevance per channel and band ``(n, ch, n_bands)`` (signed sums over the bins)."""
        R = self.spectrum(X, target)
        n_times = X.shape[-1]
        return aggregate_bins(R, self.freqs(n_times), band_edges(self.sfreq, n_bands, bands), "sum")

    def time_frequency(self, X, target=None) -> np.ndarray:
        """Relevance per channel, frame and bin ``(n, ch, n_frames, n_bins)`` (short-time DFT)."""
        return self._run(X, target, "stdft")[0]

    def tf_axes(self, n_times: int) -> tuple[np.ndarray, np.ndarray]:
        """``(frame centres in s, bin frequencies in Hz)`` of :meth:`time_frequency`."""
        vi = self.inspection(n_times, "stdft")
        return vi.times, vi.freqs


@register(
    "dft_lrp",
    domain="frequency",
    signed=True,
    needs_sfreq=True,
    description="DFT-LRP: LRP (epsilon by default) through a virtual DFT inspection layer, summed per band",
    paper="paper 3 (Vielhaben et al. 2024 virtual inspection layer)",
)
def dft_lrp(model, X, target, sfreq: float, n_bands: int = DEFAULT_N_BANDS, bands=None, rule: str = "epsilon",
            spectrum: bool = False, **rule_kw):
    """Relevance per channel and band ``(n, ch, n_bands)`` from DFT-LRP (``rule``: see ``lrp.RULES``)
    and info ``{"band_edges" (n_bands, 2) Hz}``.

    Bands: the shared default layout of :mod:`eegnb.explain.bands` (10 equal-width bands from
    0 Hz to Nyquist), ``n_bands`` or ``bands`` (pairs, dict or a layout name such as ``"eeg"``).
    ``spectrum=True`` returns the full per-bin relevance ``(n, ch, n_times // 2 + 1)`` over
    ``np.fft.rfftfreq(n_times, 1 / sfreq)`` instead (``n_bands`` and ``bands`` are then unused;
    the info then holds ``freqs``).
    """
    d = DFTLRP(model, sfreq, rule=rule, **rule_kw)
    if spectrum:
        if bands is not None:
            raise ValueError("give either spectrum=True (per-bin relevance) or bands, not both")
        return d.spectrum(X, target), dict(freqs=d.freqs(X.shape[-1]))
    return d.bands(X, target, n_bands=n_bands, bands=bands), dict(band_edges=band_edges(sfreq, n_bands, bands))
