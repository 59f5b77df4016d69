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
   part that runs over the bins, channels as features). Its input is divided by the batch's
   spectral standard deviation and its output multiplied back, so one initialisation fits any
   amplitude scale (the GRU's outputs are bounded).
4. ``x_hat^f = x^f M + (1 - M) x^{f,r}``; ``x_hat = irfft(x_hat^f)``; the loss (paper eq. 5)
   is ``CE(f(x_hat), target) + l1_mask * mean(M) + l1_perturbation * mean(|x^{f,r}| / s)
   + lambda_dist * L_dist``. ``target`` is the model's predicted class on ``x`` unless given.
   Normalisation: the L1 terms are means over elements (so their weights do not depend on
   channel count or length), and the perturbation's magnitude is divided element-wise by
   ``s[ch, bin]``, the batch's mean spectral magnitude at that channel and bin (floored at
   1 % of its overall mean). Dividing by one global scale instead would make copying weak
   (high-frequency, 1/f) components into the perturbation almost free, and the generator,
   which sees ``x^f``, could then carry the evidence past a zero mask (the shortcut the
   paper's L1 terms are there to block).
5. Target alignment ``L_dist`` (paper eq. 3-4): subject centres ``C_j`` are the mean time
   series of each reference subject; a sample's target cluster is the subject whose centre is
   nearest (Euclidean) to ``x``. The paper's eq. 4 leaves the norm out; we use the mean
   squared distance ``mean_k |x^{f,r} - x^f_{tar,k}|^2``, divided element-wise by the batch's
   mean power ``s^2`` at that channel and bin and averaged over ``ch x bins``. Per element it
   equals the squared distance to the cluster's mean spectrum plus the cluster's variance, so
   it is computed exactly from per-subject statistics. Without ``reference`` the term is off
   (a warning says so).
6. Adam (lr 0.01), up to 300 epochs, early stop after ``patience`` (10) epochs without the
   loss improving on its best by ``min_delta`` (0.005: the paper's "no significant
   reduction"; the loss is O(0.1-1), and a smaller tolerance mostly adds epochs in which the
   mask creeps by a few thousandths); the mask of the best epoch is kept. Masks are clamped to [0, 1]
   after each step.

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
    from its mean spectrum; subjects ``(S,)`` their ids.
    """

    centres: torch.Tensor
    spec_mean: torch.Tensor
    spec_var: torch.Tensor
    subjects: np.ndarray

    @classmethod
    def from_data(cls, X, subject) -> Reference:
        """Statistics from reference samples ``X (N, ch, t)`` and their subject ids ``(N,)``."""
        X = np.asarray(to_numpy(X), dtype=np.float32)
        subject = np.asarray(to_numpy(subject))
        if X.ndim != 3 or subject.shape != (len(X),):
            raise ValueError(f"reference must be (X (N, ch, t), subject (N,)); got {X.shape} and {subject.shape}")
        subs = np.unique(subject)
        centres, means, var = [], [], []
        for s in subs:
            xs = torch.as_tensor(X[subject == s])
            centres.append(xs.mean(0).reshape(-1))
            f = torch.fft.rfft(xs, dim=-1)
            mu = f.mean(0)
            means.append(mu)
            var.append(((f - mu).abs() ** 2).mean(0))
        return cls(torch.stack(centres), torch.stack(means), torch.stack(var), subs)

    def nearest(self, X: torch.Tensor) -> torch.Tensor:
        """Index (into ``subjects``) of the nearest subject centre for each sample ``(n,)``."""
        c = self.centres.to(X.device)
        return torch.cdist(X.reshape(len(X), -1), c).argmin(1)

    def to(self, device) -> Reference:
        return Reference(self.centres.to(device), self.spec_mean.to(device), self.spec_var.to(device), self.subjects)


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
    the target cluster (None without reference); epochs run per batch; history per batch
    ``(epochs, 5)`` columns loss, ce, l1_mask, l1_perturbation, dist; perturbed ``(n, ch, t)``
    and perturbation ``(n, ch, t)`` (``irfft(x^{f,r})``) when ``keep_signals=True``;
    n_forward: single-sample model passes used (each optimisation epoch is a forward and a
    backward pass per sample; the target prediction and the final pass included).
    """

    saliency: np.ndarray
    mask_bins: np.ndarray
    edges: np.ndarray
    freqs: np.ndarray
    target: np.ndarray
    target_subject: np.ndarray | None
    epochs: list[int] = field(default_factory=list)
    history: list[np.ndarray] = field(default_factory=list)
    perturbed: np.ndarray | None = None
    perturbation: np.ndarray | None = None
    n_forward: int = 0

    @property
    def band_labels(self) -> list[str]:
        return band_labels(self.edges)


class FrequencyMask:
    """Learn frequency-band masks that explain ``model`` (see the module docstring).

    Parameters
    ----------
    model : torch module ``(n, ch, t) -> logits``.
    sfreq : sampling rate in Hz.
    n_bands : equal-width bands from 0 Hz to Nyquist (default 10, the paper's mask length).
    bands : explicit ``[(lo_hz, hi_hz), ...]`` or dict; overrides ``n_bands``.
    lambda_dist : weight of the target-alignment loss (paper: 0.05).
    lr, epochs, patience, min_delta : Adam learning rate, maximum epochs, early-stopping
        patience (epochs) and the loss improvement that resets it.
    l1_mask, l1_perturbation : weights of ``mean(M)`` and ``mean(|x^{f,r}| / s)`` (module doc).
    use_l1 : False drops both L1 terms (ablation).
    generator : ``"two_branch"`` (paper), ``"one_branch"`` or ``"gru"`` (ablations).
    reference : ``(X_train (N, ch, t), subject_train (N,))`` or an EEGData: subjects whose
        centres define the target clusters. None switches the alignment term off (warns).
    init : initial mask value. batch_size : samples optimised together (default all).
    keep_signals : keep the perturbed signals and perturbations (for KDE scores).
    progress : tqdm bar over epochs. seed : seeds the generator's initial weights.
    """

    def __init__(
        self,
        model: nn.Module,
        sfreq: float,
        *,
        n_bands: int = 10,
        bands=None,
        lambda_dist: float = 0.05,
        lr: float = 0.01,
        epochs: int = 300,
        patience: int = 10,
        min_delta: float = 5e-3,
        l1_mask: float = 1.0,
        l1_perturbation: float = 1.0,
        use_l1: bool = True,
        generator: str = "two_branch",
        reference=None,
        init: float = 0.5,
        batch_size: int | None = None,
        keep_signals: bool = False,
        progress: bool = False,
        seed: int = 0,
        device=None,
    ):
        if sfreq is None or sfreq <= 0:
            raise ValueError(f"sfreq must be a positive sampling rate in Hz, got {sfreq!r}")
        if generator not in GENERATORS:
            raise ValueError(f"generator must be one of {GENERATORS}, got {generator!r}")
        if epochs < 1 or patience < 1 or lr <= 0:
            raise ValueError("epochs and patience must be >= 1 and lr > 0")
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
        self.lr, self.epochs, self.patience, self.min_delta = lr, int(epochs), int(patience), min_delta
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
        self.keep_signals = keep_signals
        self.progress = progress
        self.seed = seed
        self.device = device

    @property
    def band_labels(self) -> list[str]:
        return band_labels(self.edges)

    def config(self) -> dict:
        """Every setting that changes the result (defaults resolved), e.g. for cache keys."""
        return dict(
            edges=self.edges.tolist(), lambda_dist=self.lambda_dist, lr=self.lr, epochs=self.epochs,
            patience=self.patience, min_delta=self.min_delta, l1_mask=self.l1_mask,
            l1_perturbation=self.l1_perturbation, generator=self.generator, init=self.init,
            batch_size=self.batch_size, seed=self.seed, sfreq=self.sfreq,
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
            bs = self.batch_size or n
            parts = [self._fit_batch(model, Xt[i : i + bs].to(dev), tgt[i : i + bs].to(dev), bidx, ref) for i in range(0, n, bs)]
        cat = lambda k: np.concatenate([p[k] for p in parts]) if parts and parts[0][k] is not None else None  # noqa: E731
        tsub = cat("target_subject")
        return FrequencyMaskResult(
            saliency=cat("saliency"),
            mask_bins=cat("mask_bins"),
            edges=self.edges,
            freqs=freqs,
            target=tgt.numpy(),
            target_subject=None if tsub is None else self.reference.subjects[tsub],
            epochs=[p["epochs"] for p in parts],
            history=[p["history"] for p in parts],
            perturbed=cat("perturbed"),
            perturbation=cat("perturbation"),
            n_forward=int(sum((p["epochs"] + 1) * len(p["saliency"]) for p in parts) + (n if target is None else 0)),
        )

    def _fit_batch(self, model, X, target, bidx_np, ref: Reference | None) -> dict:
        from tqdm.auto import tqdm

        dev = X.device
        n, n_ch, n_t = X.shape
        Xf = torch.fft.rfft(X, dim=-1)
        n_bins = Xf.shape[-1]
        bidx = torch.as_tensor(bidx_np, device=dev)
        scale = torch.cat([Xf.real, Xf.imag]).std().clamp_min(1e-12)
        mag = Xf.abs().mean(0, keepdim=True)
        mag = mag.clamp_min(1e-2 * float(mag.mean()) + 1e-12)  # (1, ch, n_bins); DC is ~0 after demeaning
        power = mag**2
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            gen = make_generator(self.generator, n_ch, n_bins)
        gen = gen.to(dev)
        mask = torch.full((n, n_ch, len(self.edges)), self.init, device=dev, requires_grad=True)
        opt = torch.optim.Adam([mask, *gen.parameters()], lr=self.lr)
        use_dist = ref is not None and self.lambda_dist > 0
        tsub = ref.nearest(X) if ref is not None else None
        if use_dist:
            mu, var = ref.spec_mean[tsub], ref.spec_var[tsub]
        re_in, im_in = Xf.real / scale, Xf.imag / scale

        def step():
            M = expand_mask(mask, bidx)
            r, i = gen(re_in, im_in)
            Xr = torch.complex(r * scale, i * scale)
            xhat = apply_mask(Xf, M, Xr, n_t)
            ce = F.cross_entropy(model(xhat), target)
            l_m = mask.mean()
            l_p = (Xr.abs() / mag).mean()
            if use_dist:
                l_d = (((Xr - mu).abs() ** 2 + var) / power).mean()
            else:
                l_d = torch.zeros((), device=dev)
            loss = ce + self.l1_mask * l_m + self.l1_perturbation * l_p + self.lambda_dist * l_d
            return loss, (ce, l_m, l_p, l_d), xhat, Xr

        best, best_mask, best_state, wait, hist = np.inf, mask.detach().clone(), None, 0, []
        bar = tqdm(range(self.epochs), desc="frequency mask", leave=False, disable=not self.progress)
        for _ in bar:
            opt.zero_grad(set_to_none=True)
            loss, terms, _, _ = step()
            loss.backward()
            opt.step()
            with torch.no_grad():
                mask.clamp_(0.0, 1.0)
            lv = float(loss.detach())
            hist.append([lv, *(float(t.detach()) for t in terms)])
            bar.set_postfix(loss=f"{lv:.4f}")
            if lv < best - self.min_delta:
                best, wait = lv, 0
                best_mask = mask.detach().clone()
                best_state = {k: v.detach().clone() for k, v in gen.state_dict().items()}
            else:
                wait += 1
                if wait >= self.patience:
                    break
        bar.close()
        # The loss above is evaluated before each step; keep the mask (and generator) that
        # produced the best loss so the kept mask is one whose loss was observed.
        with torch.no_grad():
            mask.copy_(best_mask)
            if best_state is not None:
                gen.load_state_dict(best_state)
            _, _, xhat, Xr = step()
        out = dict(
            saliency=to_numpy(best_mask),
            mask_bins=to_numpy(expand_mask(best_mask, bidx)),
            target_subject=None if tsub is None else to_numpy(tsub),
            epochs=len(hist),
            history=np.asarray(hist, dtype=np.float32),
            perturbed=to_numpy(xhat) if self.keep_signals else None,
            perturbation=to_numpy(torch.fft.irfft(Xr, n=n_t, dim=-1)) if self.keep_signals else None,
        )
        return out


@register(
    "frequency_mask",
    domain="frequency",
    signed=False,
    needs_sfreq=True,
    description="learned mask over channel x frequency bands with a learned perturbation and target alignment",
    paper="paper 2 (Wang et al., frequency-domain mask perturbation)",
    defaults=dict(n_bands=10, bands=None, lambda_dist=0.05, lr=0.01, epochs=300, patience=10, min_delta=5e-3,
                  generator="two_branch", reference=None, seed=0),
)
def frequency_mask(model: nn.Module, X: torch.Tensor, target: torch.Tensor, *, sfreq: float, **kw) -> np.ndarray:
    """Band masks ``(n, ch, n_bands)`` in [0, 1]; keywords as :class:`FrequencyMask`
    (``n_bands``/``bands``, ``lambda_dist``, ``lr``, ``epochs``, ``patience``, ``l1_mask``,
    ``l1_perturbation``, ``use_l1``, ``generator``, ``reference``, ``progress``, ``seed``)."""
    kw.setdefault("device", X.device)
    return FrequencyMask(model, sfreq, **kw).fit(X, target).saliency
