"""Frequency-domain mask perturbation with a learned perturbation (paper 2: Wang et al.,
"Explain EEG-based end-to-end deep learning models in the frequency domain").

For each sample ``x (ch, t)`` a mask ``M (ch, n_bands)`` in [0, 1] is learned jointly with a
small perturbation generator so that the model's prediction on the perturbed signal stays the
prediction on ``x`` while as much of the spectrum as possible is replaced (a preservation game).
Bands whose mask stays near 1 are salient. Walked through in
``notebooks/20_frequency_mask_method.ipynb``; experiments in ``21_frequency_mask_experiments``.

Steps per optimisation epoch (paper section 3):

1. ``x^f = rfft(x)`` per channel: ``(ch, t // 2 + 1)`` one-sided bins over
   ``np.fft.rfftfreq(t, 1 / sfreq)``. **Spectrum symmetry.** The paper masks the two-sided FFT,
   whose saliency map is mirror-symmetric around Nyquist (its Fig. 5). A real signal's
   negative-frequency half is the complex conjugate of the positive half, so we mask the
   one-sided (rfft) bins only and invert with ``irfft``; this is the same as applying one mask
   value to each bin and its mirror image, and the inverse is real. The saliency is
   therefore reported once per band from 0 Hz to Nyquist (the non-redundant half of the
   paper's axis): with the default 10 equal-width bands at 200 Hz, each band spans 10 Hz.
   Resolution compared with the paper: its mask of length 10 over the two-sided 400-bin
   spectrum of a 2 s, 200 Hz segment gives 40 bins (20 Hz) per element, i.e. 5 mirror pairs;
   our default 10 one-sided bands are twice as fine, and ``n_bands=5`` gives the paper's
   5 distinct 20 Hz bands.
2. Scalable mask: the ``(ch, n_bands)`` mask is repeated to every bin of its band
   (``eegnb.explain.bands.bin_band_index``). When the bins divide evenly this is the paper's
   repeat extension; otherwise the band edges decide (the last band also takes the Nyquist
   bin). With explicit ``bands=[(lo, hi), ...]``, bins in no band keep mask 1 (untouched).
3. ``x^{f,r} = NN(x^f)``: the generator works along the frequency axis, one dense layer on the
   real part and one on the imaginary part ("two_branch", paper eq. 2). Ablations:
   "one_branch" (real and imaginary concatenated, one dense layer) and "gru" (one GRU layer per
   part that runs over the bins, channels as features). **Each sample has its own generator**
   (its weights are a slice of one batched tensor, :func:`stacked_parameters`, all starting
   from the same seeded initialisation; :func:`generator_forward` runs them with ``einsum``),
   and its input is divided by the sample's own spectral standard deviation and its output
   multiplied back, so one initialisation fits any amplitude scale (the GRU's outputs are
   bounded). Nothing is shared between samples, so a sample's mask does not depend on its
   batch companions (tested: the same samples in a batch of 4 and of 16).
4. ``x_hat^f = x^f M + (1 - M) x^{f,r}``; ``x_hat = irfft(x_hat^f)``; the loss (paper eq. 5),
   per sample, is ``CE(f(x_hat), target) + l1_mask * mean(M) + l1_perturbation *
   mean(|x^{f,r}| / s) + lambda_dist * L_dist``. ``target`` is the model's predicted class on
   ``x`` unless given. Normalisation: the L1 terms are means over elements (so their weights do
   not depend on channel count or length), and the perturbation's magnitude is divided
   element-wise by ``s[ch, bin]``, the sample's own spectral magnitude smoothed over
   ``smooth_bins`` (9) neighbouring bins and floored at 1 % of its mean (:func:`sample_norms`).
   Dividing by one global scale instead would make copying weak (high-frequency, 1/f)
   components into the perturbation almost free, and the generator, which sees ``x^f``, could
   then carry the evidence past a zero mask (the shortcut the paper's L1 terms are there to
   block).
5. Target alignment ``L_dist`` (paper eq. 3-4): subject centres ``C_j`` are the mean time
   series of each reference subject; a sample's target cluster is the subject whose centre is
   nearest (Euclidean) to ``x``. The paper's eq. 4 leaves the norm out; we use the mean
   squared distance ``mean_k |x^{f,r} - x^f_{tar,k}|^2``, divided element-wise by ``s^2`` and
   averaged over ``ch x bins``. Per element it equals the squared distance to the cluster's
   mean spectrum plus the cluster's variance, so it is computed exactly from per-subject
   statistics. **What it does:** that sum is minimised by the cluster's *mean complex
   spectrum*, and for EEG, whose phases are random across segments, the mean spectrum is
   close to zero (its power is about ``1 / N_k`` of the mean power). So the paper's term pulls
   the perturbation towards zero, like the L1 term, and cannot bring it into the data
   distribution (measured in notebook 21). ``alignment="magnitude"`` (distance of ``|x^{f,r}|``
   to the cluster's magnitudes) and ``"logpower"`` (of ``log(|x^{f,r}|^2 + eps)`` to the
   cluster's log power, ``eps = 1 %`` of its mean power; scale-free, not normalised) are
   phase-blind variants whose minimiser has the cluster's typical spectral amplitude.
   Without ``reference`` the term is off (a warning says so).
6. Adam (lr 0.01), at most ``epochs`` (300) epochs. **Early stopping per sample** (paper: "no
   significant reduction" in 10 epochs): a sample stops after ``patience`` (10) epochs without
   its loss falling below its best by ``tol`` (0.005; the loss is O(0.1-1), and a smaller
   tolerance mostly adds epochs in which the mask creeps by a few thousandths). Each sample's
   loss, best loss, patience counter and epochs run live in one batched tensor; every
   ``check_every`` (5) epochs the converged samples leave the active batch (with their Adam
   state), which is the only host sync. ``early_stopping=False`` runs the whole budget. Either
   way the kept mask (and generator) is the one whose loss was the lowest seen: it is copied
   *before* the optimiser step that follows the loss evaluation, and the final pass recomputes
   that loss (``final_loss == best_loss``). Masks are clamped to [0, 1] after each step.
   ``explain("frequency_mask", ..., return_info=True)`` reports ``epochs_run (n,)`` and
   ``band_edges (n_bands, 2)``.

Hand-written: no library implements this method (captum has no learned frequency masks).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from eegnb.explain.bands import band_edges, band_labels, bin_band_index, rfft_freqs
from eegnb.explain.registry import check_target, frozen, register
from eegnb.utils import get_device, model_device, to_numpy

GENERATORS = ("two_branch", "one_branch", "gru")


# --------------------------------------------------------------------------- generators
class TwoBranchGenerator(nn.Module):
    """Paper eq. 2: ``Dense(Re x^f)`` and ``Dense(Im x^f)`` along the bins; shared by channels.

    Input/output: real and imaginary parts ``(n, ch, n_bins)`` each.
    """

    def __init__(self, n_bins: int, n_chans: int | None = None):
        super().__init__()
        self.real = nn.Linear(n_bins, n_bins)
        self.imag = nn.Linear(n_bins, n_bins)

    def forward(self, re: torch.Tensor, im: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.real(re), self.imag(im)


class OneBranchGenerator(nn.Module):
    """Ablation: real and imaginary parts concatenated ``(n, ch, 2 n_bins)``, one dense layer."""

    def __init__(self, n_bins: int, n_chans: int | None = None):
        super().__init__()
        self.n_bins = n_bins
        self.dense = nn.Linear(2 * n_bins, 2 * n_bins)

    def forward(self, re: torch.Tensor, im: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.dense(torch.cat([re, im], dim=-1))
        return out[..., : self.n_bins], out[..., self.n_bins :]


class GRUGenerator(nn.Module):
    """Ablation: one GRU layer per part that runs over the bins with the channels as features
    (hidden size = ``n_chans``), as in the paper's GRU variant."""

    def __init__(self, n_bins: int, n_chans: int):
        super().__init__()
        self.real = nn.GRU(n_chans, n_chans, num_layers=1, batch_first=True)
        self.imag = nn.GRU(n_chans, n_chans, num_layers=1, batch_first=True)

    def forward(self, re: torch.Tensor, im: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r, _ = self.real(re.transpose(1, 2))
        i, _ = self.imag(im.transpose(1, 2))
        return r.transpose(1, 2), i.transpose(1, 2)


def make_generator(kind: str, n_chans: int, n_bins: int) -> nn.Module:
    """Perturbation generator ``kind`` in :data:`GENERATORS` for ``(n, ch, n_bins)`` spectra."""
    cls = {"two_branch": TwoBranchGenerator, "one_branch": OneBranchGenerator, "gru": GRUGenerator}
    if kind not in cls:
        raise ValueError(f"generator must be one of {GENERATORS}, got {kind!r}")
    return cls[kind](n_bins, n_chans)


# --------------------------------------------------------------------------- helpers
def expand_mask(mask: torch.Tensor, band_index: torch.Tensor) -> torch.Tensor:
    """Repeat a band mask ``(..., n_bands)`` to bins ``(..., n_bins)``; bins with index -1 get 1."""
    idx = band_index.clamp(min=0)
    out = mask[..., idx]
    return torch.where(band_index >= 0, out, torch.ones_like(out))


def apply_mask(Xf: torch.Tensor, mask_bins: torch.Tensor, Xr: torch.Tensor, n_times: int) -> torch.Tensor:
    """Paper eq. 1 then the inverse transform: ``irfft(Xf * M + (1 - M) * Xr)``.

    Xf, Xr complex ``(n, ch, n_bins)``; mask_bins ``(n, ch, n_bins)`` in [0, 1]; returns the
    real signal ``(n, ch, n_times)``. With ``M = 1`` it returns ``irfft(rfft(x)) = x``.
    """
    return torch.fft.irfft(Xf * mask_bins + (1 - mask_bins) * Xr, n=n_times, dim=-1)


@dataclass
class Reference:
    """Training-subject statistics for the target-alignment loss.

    centres ``(S, ch * t)`` time-domain subject means; spec_mean ``(S, ch, n_bins)`` complex
    mean spectra; spec_var ``(S, ch, n_bins)`` mean squared deviation of a subject's spectra
    from its mean spectrum; mag_mean / mag_var the same for the magnitudes ``|x^f|``;
    pow_mean the mean power ``|x^f|^2``; logp_mean / logp_var the same for the log power
    ``log(|x^f|^2 + eps)`` with ``eps = 1e-2 * pow_mean``; subjects ``(S,)`` their ids.
    """

    centres: torch.Tensor
    spec_mean: torch.Tensor
    spec_var: torch.Tensor
    subjects: np.ndarray
    mag_mean: torch.Tensor | None = None
    mag_var: torch.Tensor | None = None
    pow_mean: torch.Tensor | None = None
    logp_mean: torch.Tensor | None = None
    logp_var: torch.Tensor | None = None

    @classmethod
    def from_data(cls, X, subject) -> Reference:
        """Statistics from reference samples ``X (N, ch, t)`` and their subject ids ``(N,)``."""
        X = np.asarray(to_numpy(X), dtype=np.float32)
        subject = np.asarray(to_numpy(subject))
        if X.ndim != 3 or subject.shape != (len(X),):
            raise ValueError(f"reference must be (X (N, ch, t), subject (N,)); got {X.shape} and {subject.shape}")
        subs = np.unique(subject)
        st = {k: [] for k in ("centres", "mu", "var", "mm", "mv", "pm", "lm", "lv")}
        for s in subs:
            xs = torch.as_tensor(X[subject == s])
            st["centres"].append(xs.mean(0).reshape(-1))
            f = torch.fft.rfft(xs, dim=-1)
            mu = f.mean(0)
            st["mu"].append(mu)
            st["var"].append(((f - mu).abs() ** 2).mean(0))
            a = f.abs()
            st["mm"].append(a.mean(0))
            st["mv"].append(a.var(0, correction=0))
            pm = (a**2).mean(0)
            st["pm"].append(pm)
            lp = torch.log(a**2 + 1e-2 * pm + 1e-20)
            st["lm"].append(lp.mean(0))
            st["lv"].append(lp.var(0, correction=0))
        t = {k: torch.stack(v) for k, v in st.items()}
        return cls(t["centres"], t["mu"], t["var"], subs, t["mm"], t["mv"], t["pm"], t["lm"], t["lv"])

    def nearest(self, X: torch.Tensor) -> torch.Tensor:
        """Index (into ``subjects``) of the nearest subject centre for each sample ``(n,)``."""
        c = self.centres.to(X.device)
        return torch.cdist(X.reshape(len(X), -1), c).argmin(1)

    def alignment_stats(self, idx: torch.Tensor, alignment: str = "complex") -> dict:
        """Per-sample target statistics ``mu``, ``var`` (and ``eps`` for log power), ``(n, ch, n_bins)``,
        of the target clusters ``idx (n,)`` for ``alignment`` (see :class:`FrequencyMask`)."""
        if alignment == "complex":
            return dict(mu=self.spec_mean[idx], var=self.spec_var[idx])
        if alignment == "magnitude":
            return dict(mu=self.mag_mean[idx], var=self.mag_var[idx])
        if alignment == "logpower":
            return dict(mu=self.logp_mean[idx], var=self.logp_var[idx], eps=1e-2 * self.pow_mean[idx] + 1e-20)
        raise ValueError(f"alignment must be one of {ALIGNMENTS}, got {alignment!r}")

    def to(self, device) -> Reference:
        mv = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Reference(self.centres.to(device), self.spec_mean.to(device), self.spec_var.to(device), self.subjects,
                         mv(self.mag_mean), mv(self.mag_var), mv(self.pow_mean), mv(self.logp_mean), mv(self.logp_var))


def _as_reference(reference) -> Reference | None:
    if reference is None or isinstance(reference, Reference):
        return reference
    if hasattr(reference, "X") and hasattr(reference, "subject"):
        return Reference.from_data(reference.X, reference.subject)
    if isinstance(reference, (tuple, list)) and len(reference) == 2:
        return Reference.from_data(*reference)
    raise ValueError("reference must be (X_train (N, ch, t), subject_train (N,)), an EEGData or None")


@dataclass
class FrequencyMaskResult:
    """Output of :meth:`FrequencyMask.fit`.

    saliency ``(n, ch, n_bands)`` band masks in [0, 1]; mask_bins ``(n, ch, n_bins)`` the same
    repeated to every rfft bin (the full-resolution mask that was applied); edges
    ``(n_bands, 2)`` Hz; freqs ``(n_bins,)`` Hz; target ``(n,)``; target_subject ``(n,)`` id of
    the target cluster (None without reference); epochs ``(n,)`` epochs each sample ran
    (loss evaluations); history ``(n, max_epochs, 5)`` columns loss, ce, l1_mask,
    l1_perturbation, dist per sample and epoch (NaN after the sample stopped); perturbed
    ``(n, ch, t)`` and perturbation ``(n, ch, t)`` (``irfft(x^{f,r})``) when
    ``keep_signals=True``; n_forward: single-sample model passes used (each optimisation epoch
    is a forward and a backward pass per sample; the target prediction and the final pass
    included); best_loss ``(n,)`` the lowest loss seen per sample and final_loss ``(n,)`` the
    loss of the kept mask and generator, recomputed (equal: the kept mask is the best one).
    """

    saliency: np.ndarray
    mask_bins: np.ndarray
    edges: np.ndarray
    freqs: np.ndarray
    target: np.ndarray
    target_subject: np.ndarray | None
    epochs: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    history: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 5), np.float32))
    perturbed: np.ndarray | None = None
    perturbation: np.ndarray | None = None
    n_forward: int = 0
    final_loss: np.ndarray | None = None
    best_loss: np.ndarray | None = None

    def info(self) -> dict:
        """The ``explain(..., return_info=True)`` info: ``epochs_run (n,)``, ``band_edges (n_bands, 2)``."""
        return dict(epochs_run=np.asarray(self.epochs, int), band_edges=np.asarray(self.edges, float))

    @property
    def band_labels(self) -> list[str]:
        return band_labels(self.edges)


# --------------------------------------------------------------------------- batched generators
def stacked_parameters(proto: nn.Module, n: int, device) -> dict[str, torch.Tensor]:
    """``proto``'s parameters repeated to ``(n, *shape)`` leaves: one generator per sample.

    Every sample starts from the same (seeded) initial weights, so a sample's result does not
    depend on which batch it is optimised in."""
    return {k: v.detach().to(device).unsqueeze(0).repeat(n, *([1] * v.ndim)).requires_grad_()
            for k, v in proto.named_parameters()}


def _gru_batched(p: dict, name: str, x: torch.Tensor) -> torch.Tensor:
    """``nn.GRU`` (one layer, batch_first, PyTorch's gate equations) with per-sample weights.

    x ``(n, ch, T)`` runs over the T bins with the ch channels as features; returns ``(n, ch, T)``."""
    w_ih, w_hh = p[f"{name}.weight_ih_l0"], p[f"{name}.weight_hh_l0"]  # (n, 3H, H)
    b_ih, b_hh = p[f"{name}.bias_ih_l0"], p[f"{name}.bias_hh_l0"]  # (n, 3H)
    gi = torch.einsum("nct,ngc->ntg", x, w_ih) + b_ih[:, None]  # input projections of every step
    h = x.new_zeros(x.shape[0], x.shape[1])
    out = []
    for t in range(x.shape[2]):
        gh = torch.bmm(w_hh, h[..., None])[..., 0] + b_hh
        ir, iz, inn = gi[:, t].chunk(3, -1)
        hr, hz, hn = gh.chunk(3, -1)
        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        h = (1 - z) * torch.tanh(inn + r * hn) + z * h
        out.append(h)
    return torch.stack(out, -1)


def generator_forward(kind: str, p: dict, re: torch.Tensor, im: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Generator ``kind`` with per-sample parameters ``p`` (from :func:`stacked_parameters`) on
    ``re, im (n, ch, n_bins)``; equals ``make_generator(kind)`` run on each sample with its weights."""
    if kind == "two_branch":
        r = torch.einsum("ncb,nob->nco", re, p["real.weight"]) + p["real.bias"][:, None]
        i = torch.einsum("ncb,nob->nco", im, p["imag.weight"]) + p["imag.bias"][:, None]
        return r, i
    if kind == "one_branch":
        out = torch.einsum("ncb,nob->nco", torch.cat([re, im], -1), p["dense.weight"]) + p["dense.bias"][:, None]
        k = re.shape[-1]
        return out[..., :k], out[..., k:]
    if kind == "gru":
        return _gru_batched(p, "real", re), _gru_batched(p, "imag", im)
    raise ValueError(f"generator must be one of {GENERATORS}, got {kind!r}")


def sample_norms(Xf: torch.Tensor, smooth_bins: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample normalisers of spectra ``Xf (n, ch, n_bins)``: ``scale (n, 1, 1)``, the std of
    a sample's real and imaginary coefficients, and ``mag (n, ch, n_bins)``, its magnitude
    smoothed over ``smooth_bins`` neighbouring bins and floored at 1 % of its mean (module doc).

    Computed from the sample alone so that its mask does not depend on its batch companions."""
    n, c, b = Xf.shape
    scale = torch.cat([Xf.real, Xf.imag], -1).reshape(n, -1).std(1).clamp_min(1e-12)[:, None, None]
    w = max(1, min(int(smooth_bins), b)) | 1  # odd width keeps the bins centred
    mag = F.avg_pool1d(Xf.abs().reshape(n * c, 1, b), w, stride=1, padding=w // 2, count_include_pad=False)
    mag = mag.reshape(n, c, b)
    mag = torch.maximum(mag, 1e-2 * mag.mean((1, 2), keepdim=True) + 1e-12)
    return scale, mag


ALIGNMENTS = ("complex", "magnitude", "logpower")

#: Samples optimised together when ``batch_size=None`` (the result does not depend on it).
AUTO_BATCH = 64


class FrequencyMask:
    """Learn frequency-band masks that explain ``model`` (see the module docstring).

    Parameters
    ----------
    model : torch module ``(n, ch, t) -> logits``.
    sfreq : sampling rate in Hz.
    n_bands : equal-width bands from 0 Hz to Nyquist (default 10: the shared layout of
        :mod:`eegnb.explain.bands`, the paper's mask length).
    bands : explicit ``[(lo_hz, hi_hz), ...]``, dict or layout name; overrides ``n_bands``.
    lambda_dist : weight of the target-alignment loss (paper: 0.05).
    alignment : ``"complex"`` (paper eq. 4: squared distance of complex spectra),
        ``"magnitude"`` (of magnitudes) or ``"logpower"`` (of log power); module doc.
    lr, epochs : Adam learning rate and the epoch budget.
    early_stopping, patience, tol : per sample, stop after ``patience`` epochs in which the
        loss did not fall below its best by more than ``tol`` (the paper's "no significant
        reduction": patience 10; ``tol`` 0.005). ``early_stopping=False`` runs every sample
        for the whole budget. Either way the kept mask is the one with the lowest loss seen.
    min_delta : old name of ``tol``.
    l1_mask, l1_perturbation : weights of ``mean(M)`` and ``mean(|x^{f,r}| / s)`` (module doc).
    use_l1 : False drops both L1 terms (ablation).
    generator : ``"two_branch"`` (paper), ``"one_branch"`` or ``"gru"`` (ablations).
    reference : ``(X_train (N, ch, t), subject_train (N,))`` or an EEGData: subjects whose
        centres define the target clusters. None switches the alignment term off (warns).
    init : initial mask value. batch_size : samples optimised together (default
        ``AUTO_BATCH`` = 64, which bounds the memory of the per-sample generators); the result
        does not depend on it.
    smooth_bins : width (bins) of the moving average giving the per-sample magnitude ``s``.
    check_every : epochs between host-side checks of the early-stopping state (converged
        samples then leave the active batch); no per-epoch host sync.
    keep_signals : keep the perturbed signals and perturbations (for KDE scores).
    progress : tqdm bar over epochs. seed : seeds the generator's initial weights.
    """

    def __init__(
        self,
        model: nn.Module,
        sfreq: float,
        *,
        n_bands: int | None = 10,
        bands=None,
        lambda_dist: float = 0.05,
        alignment: str = "complex",
        lr: float = 0.01,
        epochs: int = 300,
        early_stopping: bool = True,
        patience: int = 10,
        tol: float | None = None,
        min_delta: float = 5e-3,
        l1_mask: float = 1.0,
        l1_perturbation: float = 1.0,
        use_l1: bool = True,
        generator: str = "two_branch",
        reference=None,
        init: float = 0.5,
        batch_size: int | None = None,
        smooth_bins: int = 9,
        check_every: int = 5,
        keep_signals: bool = False,
        progress: bool = False,
        seed: int = 0,
        device=None,
    ):
        if sfreq is None or sfreq <= 0:
            raise ValueError(f"sfreq must be a positive sampling rate in Hz, got {sfreq!r}")
        if generator not in GENERATORS:
            raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}")
        if alignment not in ALIGNMENTS:
            raise ValueError(f"alignment must be one of {ALIGNMENTS}, got {alignment!r}")
        if epochs < 1 or patience < 1 or lr <= 0 or check_every < 1:
            raise ValueError("epochs, patience and check_every must be >= 1 and lr > 0")
        tol = min_delta if tol is None else tol
        if tol < 0:
            raise ValueError(f"tol must be >= 0, got {tol}")
        if lambda_dist < 0 or l1_mask < 0 or l1_perturbation < 0:
            raise ValueError("loss weights must be >= 0")
        if not 0.0 <= init <= 1.0:
            raise ValueError(f"init must be in [0, 1], got {init}")
        if batch_size is not None and (isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be None or a positive integer, got {batch_size!r}")
        self.model = model
        self.sfreq = float(sfreq)
        self.edges = band_edges(self.sfreq, n_bands, bands)
        self.lambda_dist = float(lambda_dist)
        self.alignment = alignment
        self.lr, self.epochs, self.patience, self.tol = lr, int(epochs), int(patience), float(tol)
        self.early_stopping = bool(early_stopping)
        self.l1_mask = float(l1_mask) if use_l1 else 0.0
        self.l1_perturbation = float(l1_perturbation) if use_l1 else 0.0
        self.generator = generator
        self.reference = _as_reference(reference)
        if self.reference is None and self.lambda_dist > 0:
            warnings.warn(
                "frequency_mask: no reference=(X_train, subject_train) given, so the target-alignment "
                "term (lambda_dist) is off",
                UserWarning,
                stacklevel=2,
            )
        self.init = float(init)
        self.batch_size = batch_size
        self.smooth_bins = int(smooth_bins)
        self.check_every = int(check_every)
        self.keep_signals = keep_signals
        self.progress = progress
        self.seed = seed
        self.device = device

    @property
    def min_delta(self) -> float:
        return self.tol

    @property
    def band_labels(self) -> list[str]:
        return band_labels(self.edges)

    def config(self) -> dict:
        """Every setting that changes the result (defaults resolved), e.g. for cache keys.

        ``batch_size`` and ``check_every`` are left out: the result does not depend on them."""
        return dict(
            engine=2, edges=self.edges.tolist(), lambda_dist=self.lambda_dist, alignment=self.alignment,
            lr=self.lr, epochs=self.epochs, early_stopping=self.early_stopping, patience=self.patience,
            tol=self.tol, l1_mask=self.l1_mask, l1_perturbation=self.l1_perturbation, generator=self.generator,
            init=self.init, smooth_bins=self.smooth_bins, seed=self.seed, sfreq=self.sfreq,
            reference=None if self.reference is None else len(self.reference.subjects),
        )

    def attribute(self, X, target=None) -> np.ndarray:
        """Saliency ``(n, ch, n_bands)`` for ``X (n, ch, t)``; see :meth:`fit`."""
        return self.fit(X, target).saliency

    def fit(self, X, target=None) -> FrequencyMaskResult:
        """Learn the masks for ``X (n, ch, t)`` (numpy or tensor); ``target (n,)`` or int,
        default the predicted class. Returns a :class:`FrequencyMaskResult`."""
        dev = get_device(self.device) if self.device is not None else model_device(self.model)
        Xt = torch.as_tensor(to_numpy(X), dtype=torch.float32)
        if Xt.ndim != 3 or len(Xt) == 0:
            raise ValueError(f"X must have shape (n, ch, t) with n >= 1; got {tuple(Xt.shape)}")
        n, n_ch, n_t = Xt.shape
        if self.reference is not None:
            r_ch = int(self.reference.spec_mean.shape[1])
            r_t = int(self.reference.centres.shape[1]) // max(r_ch, 1)
            if (r_ch, r_t) != (n_ch, n_t):
                raise ValueError(
                    f"reference samples are (ch, t) = {(r_ch, r_t)} but X has shape (n, {n_ch}, {n_t}): they must match"
                )
        freqs = rfft_freqs(n_t, self.sfreq)
        bidx = bin_band_index(freqs, self.edges)
        if not (bidx >= 0).any():
            raise ValueError(f"no rfft bin falls in the bands {self.edges.tolist()} (sfreq={self.sfreq}, t={n_t})")
        model = self.model.to(dev)
        with frozen(model):
            if target is None:
                with torch.no_grad():
                    tgt = torch.cat([model(Xt[i : i + 256].to(dev)).argmax(1).cpu() for i in range(0, n, 256)])
            else:
                with torch.no_grad():
                    n_classes = model(Xt[:1].to(dev)).shape[1]
                tgt = check_target(target, n, n_classes)
            ref = self.reference.to(dev) if self.reference is not None else None
            # per-sample generators cost ~n_bins^2 parameters (x3 with Adam) each: cap the batch
            bs = self.batch_size or min(n, AUTO_BATCH)
            parts = [self._fit_batch(model, Xt[i : i + bs].to(dev), tgt[i : i + bs].to(dev), bidx, ref) for i in range(0, n, bs)]
        cat = lambda k: np.concatenate([p[k] for p in parts]) if parts and parts[0][k] is not None else None  # noqa: E731
        tsub = cat("target_subject")
        width = max(p["history"].shape[1] for p in parts)
        hist = np.concatenate([np.pad(p["history"], ((0, 0), (0, width - p["history"].shape[1]), (0, 0)),
                                      constant_values=np.nan) for p in parts])
        epochs = cat("epochs")
        return FrequencyMaskResult(
            saliency=cat("saliency"),
            mask_bins=cat("mask_bins"),
            edges=self.edges,
            freqs=freqs,
            target=tgt.numpy(),
            target_subject=None if tsub is None else self.reference.subjects[tsub],
            epochs=epochs,
            history=hist,
            perturbed=cat("perturbed"),
            perturbation=cat("perturbation"),
            n_forward=int(epochs.sum() + n + (n if target is None else 0)),
            final_loss=cat("final_loss"),
            best_loss=cat("best_loss"),
        )

    # ----------------------------------------------------------------------- the loss
    def _loss(self, model, leaves: dict, a: dict, bidx: torch.Tensor, n_t: int):
        """Per-sample loss ``(m,)``, its terms ``(m, 4)`` (ce, l1 mask, l1 perturbation, dist),
        ``x_hat`` and ``x^{f,r}`` for the active rows ``a`` (module doc, step 4)."""
        mask = leaves["mask"]
        gp = {k: v for k, v in leaves.items() if k != "mask"}
        M = expand_mask(mask, bidx)
        r, i = generator_forward(self.generator, gp, a["re_in"], a["im_in"])
        Xr = torch.complex(r * a["scale"], i * a["scale"])
        xhat = apply_mask(a["Xf"], M, Xr, n_t)
        ce = F.cross_entropy(model(xhat), a["target"], reduction="none")
        l_m = mask.mean((1, 2))
        l_p = (Xr.abs() / a["mag"]).mean((1, 2))
        if "mu" in a:
            if self.alignment == "complex":
                l_d = (((Xr - a["mu"]).abs() ** 2 + a["var"]) / a["mag"] ** 2).mean((1, 2))
            elif self.alignment == "magnitude":
                l_d = (((Xr.abs() - a["mu"]) ** 2 + a["var"]) / a["mag"] ** 2).mean((1, 2))
            else:  # log power: scale-free, so no normalisation
                lp = torch.log(Xr.abs() ** 2 + a["eps"])
                l_d = ((lp - a["mu"]) ** 2 + a["var"]).mean((1, 2))
        else:
            l_d = torch.zeros_like(ce)
        loss = ce + self.l1_mask * l_m + self.l1_perturbation * l_p + self.lambda_dist * l_d
        return loss, torch.stack([ce, l_m, l_p, l_d], 1), xhat, Xr

    def _fit_batch(self, model, X, target, bidx_np, ref: Reference | None) -> dict:
        """Optimise every sample of ``X (n, ch, t)`` with its own mask, generator, loss and
        early-stopping state, all in one batched tensor (module doc, step 6)."""
        from eegnb.progress import tqdm

        dev = X.device
        n, n_ch, n_t = X.shape
        Xf = torch.fft.rfft(X, dim=-1)
        n_bins = Xf.shape[-1]
        bidx = torch.as_tensor(bidx_np, device=dev)
        scale, mag = sample_norms(Xf, self.smooth_bins)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            proto = make_generator(self.generator, n_ch, n_bins)
        leaves = {"mask": torch.full((n, n_ch, len(self.edges)), self.init, device=dev, requires_grad=True),
                  **stacked_parameters(proto, n, dev)}
        opt = torch.optim.Adam(list(leaves.values()), lr=self.lr)
        tsub = ref.nearest(X) if ref is not None else None
        full = dict(Xf=Xf, re_in=Xf.real / scale, im_in=Xf.imag / scale, scale=scale, mag=mag, target=target)
        if ref is not None and self.lambda_dist > 0:
            full.update(ref.alignment_stats(tsub, self.alignment))
        act = dict(full)
        pos = torch.arange(n, device=dev)  # original rows of the active samples
        best = {k: v.detach().clone() for k, v in leaves.items()}
        best_loss = torch.full((n,), float("inf"), device=dev)
        ref_loss = best_loss.clone()  # the best loss by more than tol, for patience
        wait = torch.zeros(n, dtype=torch.long, device=dev)
        ran = torch.zeros(n, dtype=torch.long, device=dev)
        done = torch.zeros(n, dtype=torch.bool, device=dev)
        hist = torch.full((n, self.epochs, 5), float("nan"), device=dev)
        bar = tqdm(range(self.epochs), desc="frequency mask", leave=False, disable=not self.progress)
        for ep in bar:
            opt.zero_grad(set_to_none=True)
            loss, terms, _, _ = self._loss(model, leaves, act, bidx, n_t)
            with torch.no_grad():
                lv = loss.detach()
                live = ~done[pos]
                hist[pos, ep] = torch.where(live[:, None], torch.cat([lv[:, None], terms.detach()], 1),
                                            torch.full_like(terms[:, :1], float("nan")).expand(-1, 5))
                # snapshot BEFORE the step: these are the parameters that produced this loss
                better = live & (lv < best_loss[pos])
                for k, v in leaves.items():
                    sel = better.view(-1, *([1] * (v.ndim - 1)))
                    best[k][pos] = torch.where(sel, v.detach(), best[k][pos])
                best_loss[pos] = torch.where(better, lv, best_loss[pos])
                ran[pos] += live.long()
                if self.early_stopping:
                    sig = live & (lv < ref_loss[pos] - self.tol)
                    ref_loss[pos] = torch.where(sig, lv, ref_loss[pos])
                    wait[pos] = torch.where(sig, torch.zeros_like(wait[pos]), wait[pos] + live.long())
                    done[pos] = done[pos] | (live & (wait[pos] >= self.patience))
            if ep == self.epochs - 1:
                break  # the last loss is seen; a further step would never be evaluated
            loss.sum().backward()  # samples share no parameter: each gets its own gradient
            opt.step()
            with torch.no_grad():
                leaves["mask"].clamp_(0.0, 1.0)
            if self.early_stopping and (ep + 1) % self.check_every == 0:
                keep = ~done[pos]
                n_keep = int(keep.sum())  # the only host sync, every check_every epochs
                if n_keep == 0:
                    break
                if n_keep < len(pos):
                    leaves, opt = _compact(leaves, opt, keep, self.lr)
                    act = {k: v[keep] for k, v in act.items()}
                    pos = pos[keep]
        bar.close()
        with torch.no_grad():
            final, _, xhat, Xr = self._loss(model, best, full, bidx, n_t)
        n_run = int(ran.max())
        out = dict(
            saliency=to_numpy(best["mask"]),
            mask_bins=to_numpy(expand_mask(best["mask"], bidx)),
            target_subject=None if tsub is None else to_numpy(tsub),
            epochs=to_numpy(ran).astype(int),
            history=to_numpy(hist[:, :n_run]).astype(np.float32),
            perturbed=to_numpy(xhat) if self.keep_signals else None,
            perturbation=to_numpy(torch.fft.irfft(Xr, n=n_t, dim=-1)) if self.keep_signals else None,
            final_loss=to_numpy(final),
            best_loss=to_numpy(best_loss),
        )
        return out


def _compact(leaves: dict, opt: torch.optim.Adam, keep: torch.Tensor, lr: float):
    """Drop converged rows from the batched leaves and their Adam state (the rest continue
    exactly as before: Adam is element-wise and the step count is shared)."""
    new = {k: v.detach()[keep].clone().requires_grad_() for k, v in leaves.items()}
    new_opt = torch.optim.Adam(list(new.values()), lr=lr)
    for old, p in zip(leaves.values(), new.values()):
        st = opt.state.get(old)
        if st:
            new_opt.state[p] = {"step": st["step"].clone() if torch.is_tensor(st["step"]) else st["step"],
                                "exp_avg": st["exp_avg"][keep].clone(), "exp_avg_sq": st["exp_avg_sq"][keep].clone()}
    return new, new_opt


@register(
    "frequency_mask",
    domain="frequency",
    signed=False,
    needs_sfreq=True,
    description="learned mask over channel x frequency bands with a learned perturbation and target alignment",
    paper="paper 2 (Wang et al., frequency-domain mask perturbation)",
    defaults=dict(n_bands=10, bands=None, lambda_dist=0.05, alignment="complex", lr=0.01, epochs=300,
                  early_stopping=True, patience=10, tol=5e-3, generator="two_branch", reference=None, seed=0),
)
def frequency_mask(model: nn.Module, X: torch.Tensor, target: torch.Tensor, *, sfreq: float, **kw):
    """Band masks ``(n, ch, n_bands)`` in [0, 1] and info ``{"epochs_run" (n,), "band_edges"
    (n_bands, 2) Hz}``; keywords as :class:`FrequencyMask` (``n_bands``/``bands``,
    ``lambda_dist``, ``alignment``, ``lr``, ``epochs``, ``early_stopping`` (default on),
    ``patience``, ``tol``, ``l1_mask``, ``l1_perturbation``, ``use_l1``, ``generator``,
    ``reference``, ``progress``, ``seed``)."""
    kw.setdefault("device", X.device)
    res = FrequencyMask(model, sfreq, **kw).fit(X, target)
    return res.saliency, res.info()
