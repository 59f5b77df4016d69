"""Context-aware perturbation saliency (paper 1: Wang et al., IEEE TBME 2022).

A mask ``M`` in ``[0, 1]^(ch x t)`` per sample is learned so that the perturbed input
``X_hat = (1 - M) * P + M * X`` (paper eq. 2) keeps the model's output close to its output
on ``X``. ``P`` is the *context* of each element: a temporal average ``C_t`` (1-D average
pooling along time) and a spatial average ``C_s`` (along the channel axis), fused element
by element with a softmax over the two (eqs. 4-7). The error loss is the cross-entropy
between ``softmax f(X)`` and ``softmax f(X_hat)`` (eq. 11; MSE between outputs for
regression). The optional area limitation (eqs. 12-13) adds
``lambda * || sort(vec M) - r_a ||_2``, where ``r_a`` zeroes the lowest fraction ``a`` of
the sorted mask (so the term is the norm of the lowest ``a`` fraction), switched on only
after ``warmup_epochs`` (the paper's two-stage training). The mask itself is the saliency
map (paper Definition 1 / Remark 1): an element is salient when the mask must stay near 1
to preserve the output, i.e. when replacing it by its context changes the decision.

Implementation choices (hand-written: no library implements this method):

- Padding. Pooling uses stride 1 and keeps the shape: a kernel ``k`` is centred with
  ``(k - 1) // 2`` elements of zero padding before and ``k // 2`` after (an even kernel,
  e.g. the paper's 28 along channels, reaches one element further forward), and each
  output is divided by the number of *real* elements under the window (as
  ``count_include_pad=False``), so edges are averages of the available neighbours and never
  pulled towards zero. A kernel longer than the axis averages the available part.
- Parametrisation. ``parametrization="clamp"`` (default) optimises ``M`` itself and projects
  it back onto ``[0, 1]`` after every Adam step (projected gradient): the paper states
  ``M in [0, 1]``, an initial value of 0.9 and Adam with learning rate 0.1 on the mask, and
  names no reparametrisation, so this is its most direct reading. ``"sigmoid"`` optimises a
  logit ``z`` with ``M = sigmoid(z)`` from ``logit(init)`` (``init=0.9`` -> ``z = log 9``),
  so ``M`` stays strictly in (0, 1); lr 0.1 on ``z`` moves ``M`` about 0.009 per step near 0.9
  instead of 0.1, a different optimiser.
- Mechanism (measured in notebook 10): Adam normalises each element's gradient by its own
  running magnitude, so every element takes steps of about ``lr`` in the direction of
  ``-sign(dL/dM)``, whatever the gradient's size; the mask therefore becomes roughly
  ``+-sign(a)`` with ``a = dL/dx_hat * (x - p)`` (eq. 10) instead of ranking elements by
  ``|a|``. :func:`eegnb.experiments.context_mask.mechanism` measures this.
- Batching and early stopping. Masks of a whole batch are optimised together with the *sum*
  of the per-sample losses, so each mask's gradient is its own; Adam keeps per-element
  moments, so the result equals optimising each sample alone (up to floating-point reduction
  order). Each sample has its own stage, best loss and patience counter (device tensors);
  with ``early_stopping=True`` a sample stops when its loss has not improved by ``tol`` for
  ``patience`` epochs, is frozen at once and leaves the forward batch at the next check
  (every ``check_every`` epochs, the only host synchronisation in the loop), and its best
  mask is returned; ``early_stopping=False`` is the paper's fixed budget (last mask).
- The model is frozen in eval mode (BatchNorm uses running statistics, dropout is off), so
  samples do not interact through the forward pass either.

Walked through in ``notebooks/10_context_mask_method.ipynb``; the paper's experiments in
``notebooks/11_context_mask_experiments.ipynb``.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from eegnb.explain.registry import frozen, register
from eegnb.progress import tqdm
from eegnb.utils import get_device

__all__ = [
    "ContextMask",
    "ContextMaskResult",
    "context_pool",
    "context_perturbation",
    "area_loss",
    "initial_attribution",
]


def context_pool(X: torch.Tensor, kernel: int, dim: int) -> torch.Tensor:
    """Stride-1 moving average of ``X (n, ch, t)`` along ``dim`` (1: channels, 2: time), same shape.

    Window of ``kernel`` elements from ``i - (kernel - 1) // 2`` to ``i + kernel // 2``; only
    elements inside the axis are averaged (zero padding divided by the real count).
    """
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n, ch, t), got {tuple(X.shape)}")
    if dim not in (1, 2):
        raise ValueError(f"dim must be 1 (channels) or 2 (time), got {dim}")
    if int(kernel) != kernel or kernel < 1:
        raise ValueError(f"kernel must be a positive integer, got {kernel!r}")
    kernel = int(kernel)
    if kernel == 1:
        return X.clone()
    x = X.transpose(1, 2) if dim == 1 else X  # pool along the last axis
    n, a, L = x.shape
    flat = x.reshape(n * a, 1, L)
    left, right = (kernel - 1) // 2, kernel // 2
    ones = torch.ones(1, 1, L, dtype=X.dtype, device=X.device)
    pooled = F.avg_pool1d(F.pad(flat, (left, right)), kernel, stride=1)
    count = F.avg_pool1d(F.pad(ones, (left, right)), kernel, stride=1)
    out = (pooled / count).reshape(n, a, L)
    return out.transpose(1, 2) if dim == 1 else out


def context_perturbation(
    X: torch.Tensor, temporal_kernel: int = 15, spatial_kernel: int = 28, return_parts: bool = False
):
    """The context perturbation ``P (n, ch, t)`` of paper eqs. 4-7.

    ``C_t`` pools along time, ``C_s`` along channels; ``w_t = exp(C_t) / (exp(C_t) + exp(C_s))``
    per element (a softmax over the two contexts, so it depends on the amplitude scale of
    ``X``: on standardised data the weights vary, on data in volts they are ~0.5 each) and
    ``P = w_t C_t + w_s C_s``. ``return_parts=True`` also returns ``(C_t, C_s, w_t)``.
    """
    Ct = context_pool(X, temporal_kernel, dim=2)
    Cs = context_pool(X, spatial_kernel, dim=1)
    w = torch.softmax(torch.stack([Ct, Cs]), dim=0)
    P = w[0] * Ct + w[1] * Cs
    return (P, Ct, Cs, w[0]) if return_parts else P


def area_loss(M: torch.Tensor, area: float) -> torch.Tensor:
    """Per-sample area limitation ``|| sort(vec M) - r_a ||_2`` ``(n,)`` (paper eq. 12).

    ``r_a`` equals the ascending sorted mask except that its lowest ``floor(area * ch * t)``
    entries are 0, so the term is the Euclidean norm of the lowest ``area`` fraction of the
    mask: it pushes those elements to 0 and leaves the rest alone. Ties are sorted stably (by
    position), which is why a constant initial mask is cut from the first channels
    (the one-stage bias of paper Fig. 5).
    """
    if not 0.0 <= area <= 1.0:
        raise ValueError(f"area must be in [0, 1], got {area}")
    flat = M.reshape(len(M), -1)
    k = int(math.floor(area * flat.shape[1]))
    if k == 0:
        return flat.new_zeros(len(M))
    low = torch.sort(flat, dim=1, stable=True).values[:, :k]
    # sqrt(sum + tiny) keeps the gradient finite when every low element is exactly 0 (clamp mode)
    return torch.sqrt((low**2).sum(1) + 1e-12)


@dataclass
class ContextMaskResult:
    """Output of :meth:`ContextMask.attribute`.

    mask: ``(n, ch, t)`` float32 in [0, 1], the saliency map (1 = must be kept): the last mask
    with ``early_stopping=False`` (the paper's fixed budget), else each sample's best mask.
    loss, error: per-epoch loss summed over samples ``(epochs,)`` and its error part (a sample
    that stopped early contributes its last value). loss_per_sample: ``(epochs, n)``, NaN after
    a sample stopped.
    entropy: summed entropy of the reference distribution (``softmax f(X)``, 0 for a one-hot
    target), the floor of the cross-entropy error, so ``error - entropy`` is the summed KL
    divergence ``KL(ref || f(X_hat))``; 0 for ``"mse"``.
    perturbation: ``(n, ch, t)`` the context ``P`` (zeros without context).
    epochs_run: ``(n,)`` int, Adam steps each sample's mask took. stage2_start: ``(n,)`` int, the
    epoch each sample's area term switched on (``-1`` without area limitation).
    seconds: wall time of the optimisation.
    """

    mask: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    perturbation: np.ndarray
    seconds: float
    entropy: float = 0.0
    config: dict = field(default_factory=dict)
    epochs_run: np.ndarray | None = None
    stage2_start: np.ndarray | None = None
    loss_per_sample: np.ndarray | None = None
    state: dict | None = None

    @property
    def divergence(self) -> np.ndarray:
        """Per-epoch ``error - entropy`` ``(epochs,)``: summed KL divergence for ``loss="ce"``."""
        return self.error - self.entropy

    @property
    def saliency(self) -> np.ndarray:
        """The saliency map ``(n, ch, t)``: the mask itself (paper Definition 1)."""
        return self.mask


@dataclass
class ContextMask:
    """Context-aware perturbation mask (Wang et al. 2022); see the module docstring.

    Parameters (paper values as defaults)
    -------------------------------------
    epochs : Adam steps (200; the budget, reached only with ``early_stopping=False`` or when
        the loss keeps improving). lr : Adam learning rate (0.1).
    area : fraction ``a`` of mask elements the area limitation pushes to 0; ``None`` (default)
        switches the limitation off, the paper uses ``a = 0.5`` when it is on (``area=True``
        means that paper value, ``area=False`` means ``None``).
    area_weight : its weight ``lambda`` (0.05). warmup_epochs : epochs ``k`` trained on the
        error loss alone before the area term joins (100; 0 gives one-stage training).
    temporal_kernel, spatial_kernel : pooling kernels in samples / channels (15, 28).
    context : False removes ``P`` (``X_hat = M * X``, the paper's ablation).
    loss : ``"ce"`` (cross-entropy to a reference distribution, eq. 11) or ``"mse"`` (outputs).
    target : the reference of eq. 11 for ``loss="ce"``: ``"soft"`` (default, ``softmax f(X)``)
        or ``"onehot"`` (the predicted class as a one-hot label); the paper's eq. 11 reads
        both ways.
    init : initial mask value (0.9). parametrization : ``"clamp"`` (default: Adam on ``M``
        itself, projected back onto ``[0, 1]`` after each step; the paper's "M in [0, 1]",
        initial value 0.9 and learning rate 0.1 only make sense on ``M`` directly) or
        ``"sigmoid"`` (Adam on a logit ``z``, ``M = sigmoid(z)``; lr 0.1 is then a much smaller
        step in ``M`` near 0.9).
    early_stopping : True (default) stops each sample's mask on its own once its loss has not
        improved by more than ``tol`` (absolute, per sample, 1e-4) for ``patience`` epochs
        (10) and keeps its best mask (the lowest loss seen, strictly); False runs the paper's fixed budget and returns the last mask.
        With area limitation each sample enters stage 2 (area term on) when its stage-1 loss
        stops improving or at ``warmup_epochs``, whichever comes first, then runs stage 2 for
        at most ``epochs - warmup_epochs`` epochs (the best mask is the best of stage 2: the
        stage-1 loss lacks the area term, so the two are not comparable).
    check_every : epochs between host synchronisations (early-stopping check, compaction of
        the active batch, progress bar); samples that stop in between are frozen on the device.
    progress : tqdm bar over epochs. seed : seeds torch's generator inside the call.
    """

    epochs: int = 200
    lr: float = 0.1
    area: float | None = None
    area_weight: float = 0.05
    warmup_epochs: int = 100
    temporal_kernel: int = 15
    spatial_kernel: int = 28
    context: bool = True
    loss: str = "ce"
    target: str = "soft"
    init: float = 0.9
    parametrization: str = "clamp"
    early_stopping: bool = True
    patience: int = 10
    tol: float = 1e-4
    check_every: int = 10
    progress: bool = True
    seed: int = 0

    def __post_init__(self):
        if isinstance(self.area, bool):  # area=True: the paper's a = 0.5; False: off
            self.area = 0.5 if self.area else None
        for name in ("temporal_kernel", "spatial_kernel"):
            k = getattr(self, name)
            if isinstance(k, bool) or int(k) != k or k < 1:
                raise ValueError(f"{name} must be a positive integer, got {k!r}")
        if int(self.warmup_epochs) != self.warmup_epochs or self.warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be an integer >= 0, got {self.warmup_epochs!r}")
        if int(self.epochs) != self.epochs or self.epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        for name in ("patience", "check_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not self.tol >= 0:
            raise ValueError(f"tol must be >= 0, got {self.tol}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.loss not in ("ce", "mse"):
            raise ValueError(f"loss must be 'ce' or 'mse', got {self.loss!r}")
        if self.target not in ("soft", "onehot"):
            raise ValueError(f"target must be 'soft' or 'onehot', got {self.target!r}")
        if self.parametrization not in ("sigmoid", "clamp"):
            raise ValueError(
                f"parametrization must be 'sigmoid' or 'clamp', got {self.parametrization!r}"
            )
        if not 0.0 < self.init < 1.0:
            raise ValueError(f"init must be strictly between 0 and 1, got {self.init}")
        if self.area is not None:
            if not 0.0 <= self.area <= 1.0:
                raise ValueError(f"area must be None or in [0, 1], got {self.area}")
            if self.area_weight < 0:
                raise ValueError(f"area_weight must be >= 0, got {self.area_weight}")
            if not 0 <= self.warmup_epochs < self.epochs:
                raise ValueError(
                    f"warmup_epochs ({self.warmup_epochs}) must be in [0, epochs={self.epochs}) "
                    "or the area limitation never starts"
                )

    # -- pieces -------------------------------------------------------------------------
    def perturbation(self, X: torch.Tensor) -> torch.Tensor:
        """``P (n, ch, t)`` for ``X``: the fused context, or zeros when ``context=False``."""
        if not self.context:
            return torch.zeros_like(X)
        return context_perturbation(X, self.temporal_kernel, self.spatial_kernel)

    def _mask(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z) if self.parametrization == "sigmoid" else z

    def _init_param(self, X: torch.Tensor) -> torch.Tensor:
        v = (
            math.log(self.init / (1 - self.init))
            if self.parametrization == "sigmoid"
            else self.init
        )
        return torch.full_like(X, v).requires_grad_(True)

    def reference(self, out: torch.Tensor) -> torch.Tensor:
        """The reference of the error term for logits ``out (n, classes)``: ``softmax f(X)``
        (``target="soft"``), the predicted class one-hot (``"onehot"``), or ``f(X)`` (mse)."""
        if self.loss == "mse":
            return out
        if self.target == "onehot":
            return F.one_hot(out.argmax(1), out.shape[1]).to(out.dtype)
        return torch.softmax(out, dim=1)

    def _error(self, out_hat: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """Per-sample error ``(n,)``; ``ref`` from :meth:`reference`."""
        if self.loss == "ce":
            return -(ref * torch.log_softmax(out_hat, dim=1)).sum(1)
        return ((out_hat - ref) ** 2).sum(1)

    # -- main ---------------------------------------------------------------------------
    def attribute(
        self, model: torch.nn.Module, X, *, device=None, keep_state: bool = False, resume: dict | None = None
    ) -> ContextMaskResult:
        """Optimise one mask per sample of ``X (n, ch, t)`` for ``model``; returns the masks.

        All masks live in one ``(n, ch, t)`` tensor and one Adam optimiser (per-element
        moments, summed per-sample losses: each mask gets only its own gradient). Each sample
        keeps its own stage, best loss and patience counter on the device; a sample that
        stops is frozen at once (its parameters are restored after every step) and leaves the
        forward batch at the next check (every ``check_every`` epochs, the only host sync).
        The model is frozen in eval mode for the call. ``device`` defaults to the model's.
        ``keep_state=True`` stores the mask parameters and Adam state in ``result.state``;
        ``resume=state`` continues a fixed-budget run from there (``epochs`` counts from the
        start): two runs that differ only after epoch ``k`` (e.g. with and without the area
        term from ``warmup_epochs``) can share their first ``k`` epochs.
        """
        if resume is not None and self.early_stopping:
            raise ValueError("resume= continues a fixed-budget run: pass early_stopping=False")
        Xt = torch.as_tensor(X) if not isinstance(X, torch.Tensor) else X.detach()
        if Xt.ndim != 3:
            raise ValueError(f"X must have shape (n, ch, t), got {tuple(Xt.shape)}")
        if not torch.is_floating_point(Xt):
            raise ValueError(f"X must be floating point, got {Xt.dtype}")
        if device is None:
            p = next(model.parameters(), None)
            dev = p.device if p is not None else torch.device("cpu")
        else:
            dev = get_device(device)
        model = model.to(dev)
        Xt = Xt.float().to(dev)
        n = len(Xt)
        E, es = int(self.epochs), bool(self.early_stopping)
        has_area = self.area is not None
        warm = int(self.warmup_epochs) if has_area else E
        t0 = time.perf_counter()
        with frozen(model), torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(self.seed)
            with torch.no_grad():
                ref = self.reference(model(Xt))
                P = self.perturbation(Xt)
            z = self._init_param(Xt)
            opt = torch.optim.Adam([z], lr=self.lr)
            ep0 = 0
            if resume is not None:
                if tuple(resume["z"].shape) != tuple(Xt.shape) or not resume["epoch"] < E:
                    raise ValueError(f"resume state of shape {tuple(resume['z'].shape)} at epoch {resume['epoch']} does not fit X {tuple(Xt.shape)} and epochs={E}")
                with torch.no_grad():
                    z.copy_(resume["z"].to(dev))
                opt.load_state_dict(copy.deepcopy(resume["opt"]))
                ep0 = int(resume["epoch"])
            ones = (1,) * (Xt.ndim - 1)
            # per-sample state, all on the device (no host sync inside the loop)
            done = torch.zeros(n, dtype=torch.bool, device=dev)
            stage2 = torch.zeros(n, dtype=torch.bool, device=dev) | (has_area and warm == 0)
            s2_start = torch.full((n,), -1 if not has_area else (0 if warm == 0 else warm), device=dev)
            ep_run = torch.zeros(n, dtype=torch.long, device=dev)
            best = torch.full((n,), float("inf"), device=dev)
            anchor = best.clone()
            wait = torch.zeros(n, dtype=torch.long, device=dev)
            best_z = z.detach().clone()
            loss_hist = torch.full((E, n), float("nan"), device=dev)
            err_hist = torch.full((E, n), float("nan"), device=dev)
            active = torch.arange(n, device=dev)  # rows in the forward batch
            if resume is not None:
                loss_hist[:ep0], err_hist[:ep0] = (torch.as_tensor(h[:ep0], device=dev) for h in resume["hist"])
                ep_run += ep0
            bar = tqdm(range(ep0, E), desc="context mask", disable=not self.progress, leave=False)
            for ep in bar:
                if has_area and not es and ep == warm:
                    stage2 = torch.ones_like(stage2)
                opt.zero_grad(set_to_none=True)
                za = z[active]
                M = self._mask(za)
                X_hat = (1 - M) * P[active] + M * Xt[active]
                err = self._error(model(X_hat), ref[active])
                lossv = err
                if has_area:
                    lossv = err + self.area_weight * area_loss(M, self.area) * stage2[active]
                lossv.sum().backward()  # summed, not averaged: each sample's gradient is its own
                with torch.no_grad():
                    la = lossv.detach()
                    run_a = ~done[active]
                    loss_hist[ep, active] = torch.where(run_a, la, loss_hist[ep, active])
                    err_hist[ep, active] = torch.where(run_a, err.detach(), err_hist[ep, active])
                    ep_run[active] += run_a.long()
                    if es:  # best mask = the mask that gave the best loss (before this step)
                        better = run_a & (la < best[active])  # the best mask: strictly lowest loss
                        bz = best_z[active]
                        best_z[active] = torch.where(better.view(-1, *ones), za.detach(), bz)
                        best[active] = torch.where(better, la, best[active])
                        improved = run_a & (la < anchor[active] - self.tol)  # patience: by > tol
                        anchor[active] = torch.where(improved, la, anchor[active])
                        wait[active] = torch.where(improved, 0, wait[active] + run_a.long())
                    z_prev = z.detach().clone() if es else None
                opt.step()
                with torch.no_grad():
                    if self.parametrization == "clamp":
                        z.clamp_(0.0, 1.0)
                    if es:
                        stop = run_a & (wait[active] >= self.patience)
                        if has_area:  # stage 1 -> 2 at a plateau or at warmup; stage 2 -> done
                            s1 = ~stage2[active]
                            go2 = run_a & s1 & (stop | (ep_run[active] >= warm))
                            fin = run_a & ~s1 & (stop | (ep_run[active] - s2_start[active] >= E - warm))
                            idx2 = active[go2]
                            stage2[idx2] = True
                            s2_start[idx2] = ep_run[idx2]
                            best[idx2] = float("inf")
                            anchor[idx2] = float("inf")
                            wait[idx2] = 0
                        else:
                            fin = stop
                        done[active[fin]] = True
                        # stopped rows keep their values (Adam's momentum would move them)
                        z.data = torch.where(done.view(-1, *ones), z_prev, z.data)
                if es and ((ep + 1) % self.check_every == 0 or ep == E - 1):
                    still = ~done
                    if not bool(still.any()):  # host sync, once per check_every epochs
                        break
                    active = torch.nonzero(still).flatten()
                    if self.progress:
                        bar.set_postfix(active=len(active))
                elif self.progress and (ep + 1) % self.check_every == 0:
                    bar.set_postfix(loss=f"{float(la.sum()) / n:.4f}")
            bar.close()
            mask = self._mask(best_z if es else z.detach()).detach()
            if es and has_area:  # a sample whose best stage-2 loss was never set keeps its last mask
                never = torch.isinf(best)
                mask = torch.where(never.view(-1, *ones), self._mask(z.detach()), mask)
            ent = (-(ref * torch.log(ref.clamp_min(1e-30))).sum()) if self.loss == "ce" else ref.new_zeros(())
            lh, eh = loss_hist.cpu().numpy(), err_hist.cpu().numpy()  # the one sync after the loop
            state = None
            if keep_state:
                state = dict(z=z.detach().cpu().clone(), opt=copy.deepcopy(opt.state_dict()), epoch=E, hist=(lh, eh))
            epochs_run = ep_run.cpu().numpy().astype(int)
            s2 = s2_start.cpu().numpy().astype(int)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        n_ep = max(int(epochs_run.max()), 1)
        lh, eh = lh[:n_ep], eh[:n_ep]
        return ContextMaskResult(
            mask=mask.cpu().numpy().astype(np.float32),
            loss=np.nansum(_ffill(lh), 1),
            error=np.nansum(_ffill(eh), 1),
            perturbation=P.cpu().numpy().astype(np.float32),
            seconds=time.perf_counter() - t0,
            entropy=float(ent),
            config=asdict(self),
            epochs_run=epochs_run,
            stage2_start=s2,
            loss_per_sample=lh,
            state=state,
        )

    def __call__(self, model: torch.nn.Module, X, *, device=None) -> np.ndarray:
        """The saliency maps ``(n, ch, t)`` (the masks)."""
        return self.attribute(model, X, device=device).mask


def _ffill(a: np.ndarray) -> np.ndarray:
    """Forward-fill NaN rows of ``a (epochs, n)`` per column (a stopped sample keeps its last value)."""
    a = a.copy()
    for i in range(1, len(a)):
        m = np.isnan(a[i])
        a[i, m] = a[i - 1, m]
    return a


def initial_attribution(model: torch.nn.Module, X, cm: ContextMask | None = None, *, device=None) -> np.ndarray:
    """The eq.-10 quantity ``a = dd/dx_hat * (x - p)`` ``(n, ch, t)`` at the initial mask.

    ``d`` is the error term (eq. 11) of ``cm`` (default :class:`ContextMask`), ``x_hat`` the
    blend at ``M = init`` and ``p`` the context perturbation, so ``a`` is the gradient of the
    error with respect to the mask at the start, ``dL/dM``. Adam's first step moves each mask
    element by ``-lr * sign(a)``; ``|a|`` is the gradient's own saliency reading.
    """
    cm = cm or ContextMask(progress=False)
    dev = get_device(device) if device is not None else next(model.parameters()).device
    Xt = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X.detach().cpu()).float().to(dev)
    model = model.to(dev)
    with frozen(model):
        with torch.no_grad():
            ref = cm.reference(model(Xt))
            P = cm.perturbation(Xt)
        x_hat = ((1 - cm.init) * P + cm.init * Xt).requires_grad_(True)
        cm._error(model(x_hat), ref).sum().backward()
        a = x_hat.grad * (Xt - P)
    return a.detach().cpu().numpy().astype(np.float32)


def _kw_config(kw: dict) -> ContextMask:
    allowed = set(ContextMask.__dataclass_fields__)
    bad = set(kw) - allowed
    if bad:
        raise ValueError(
            f"unknown context_mask keyword(s) {sorted(bad)}; allowed: {sorted(allowed)}"
        )
    return ContextMask(**kw)


@register(
    "context_mask",
    domain="time",
    signed=False,
    uses_target=False,
    description="context-aware perturbation mask (temporal+spatial pooling context, softmax fusion)",
    paper="Wang et al. 2022 TBME",
)
def context_mask(model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, **kw):
    """Saliency ``(n, ch, t)`` in [0, 1]: the learned context-aware mask (1 = must be kept).

    Keywords are :class:`ContextMask`'s (``epochs``, ``lr``, ``area``, ``area_weight``,
    ``warmup_epochs``, ``temporal_kernel``, ``spatial_kernel``, ``context``, ``loss``,
    ``target`` (``"soft"``/``"onehot"``: the reference of eq. 11, not a class index), ``init``,
    ``parametrization``, ``early_stopping`` (on by default: patience 10, tol 1e-4;
    ``early_stopping=False`` is the paper's fixed 200 epochs), ``patience``, ``tol``,
    ``check_every``, ``progress``, ``seed``). The ``target`` argument of ``explain`` is not
    used: the loss matches the model's output distribution on ``X`` (paper eq. 11), not a chosen
    class, so the method is registered with ``uses_target=False``. Returns ``(maps, info)`` with
    ``info["epochs_run"] (n,)`` (see ``explain(..., return_info=True)``).
    """
    res = _kw_config(kw).attribute(model, X, device=X.device)
    return res.mask, {"epochs_run": res.epochs_run}
