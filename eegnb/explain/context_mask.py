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
- Parametrisation. ``parametrization="sigmoid"`` (default) optimises an unconstrained logit
  ``z`` with ``M = sigmoid(z)``, ``z`` initialised at ``logit(init)`` (``init=0.9`` ->
  ``z = log 9``), so ``M`` is always strictly in (0, 1). ``"clamp"`` optimises ``M`` itself
  and projects it back onto ``[0, 1]`` after every Adam step (projected gradient).
- Batching. Masks of a whole batch are optimised together with the *sum* of the per-sample
  losses, so each mask's gradient is its own; Adam keeps per-element moments, so the result
  equals optimising each sample alone (up to floating-point reduction order).
- The model is frozen in eval mode (BatchNorm uses running statistics, dropout is off), so
  samples do not interact through the forward pass either.

Walked through in ``notebooks/10_context_mask_method.ipynb``; the paper's experiments in
``notebooks/11_context_mask_experiments.ipynb``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from eegnb.explain.registry import frozen, register
from eegnb.utils import get_device

__all__ = ["ContextMask", "ContextMaskResult", "context_pool", "context_perturbation", "area_loss"]


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

    mask: ``(n, ch, t)`` float32 in [0, 1], the saliency map (1 = must be kept).
    loss, error: per-epoch loss summed over samples ``(epochs,)`` and its error part.
    entropy: summed entropy of ``softmax f(X)`` (the floor of the cross-entropy error, so
    ``error - entropy`` is the summed KL divergence ``KL(f(X) || f(X_hat))``; 0 for ``"mse"``).
    perturbation: ``(n, ch, t)`` the context ``P`` (zeros without context).
    seconds: wall time of the optimisation.
    """

    mask: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    perturbation: np.ndarray
    seconds: float
    entropy: float = 0.0
    config: dict = field(default_factory=dict)

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
    epochs : Adam steps (200). lr : Adam learning rate (0.1).
    area : fraction ``a`` of mask elements the area limitation pushes to 0; ``None`` (default)
        switches the limitation off, the paper uses ``a = 0.5`` when it is on (``area=True``
        means that paper value, ``area=False`` means ``None``).
    area_weight : its weight ``lambda`` (0.05). warmup_epochs : epochs ``k`` trained on the
        error loss alone before the area term joins (100; 0 gives one-stage training).
    temporal_kernel, spatial_kernel : pooling kernels in samples / channels (15, 28).
    context : False removes ``P`` (``X_hat = M * X``, the paper's ablation).
    loss : ``"ce"`` (cross-entropy to the original softmax, eq. 11) or ``"mse"`` (outputs).
    init : initial mask value (0.9). parametrization : ``"sigmoid"`` or ``"clamp"``.
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
    init: float = 0.9
    parametrization: str = "sigmoid"
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
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.loss not in ("ce", "mse"):
            raise ValueError(f"loss must be 'ce' or 'mse', got {self.loss!r}")
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

    def _error(self, out_hat: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """Per-sample error ``(n,)``; ``ref`` is softmax f(X) (ce) or f(X) (mse)."""
        if self.loss == "ce":
            return -(ref * torch.log_softmax(out_hat, dim=1)).sum(1)
        return ((out_hat - ref) ** 2).sum(1)

    # -- main ---------------------------------------------------------------------------
    def attribute(self, model: torch.nn.Module, X, *, device=None) -> ContextMaskResult:
        """Optimise one mask per sample of ``X (n, ch, t)`` for ``model``; returns the masks.

        The model is frozen in eval mode for the call. ``device`` defaults to the model's.
        """
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
        t0 = time.perf_counter()
        with frozen(model), torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
            torch.manual_seed(self.seed)
            with torch.no_grad():
                out = model(Xt)
                ref = torch.softmax(out, dim=1) if self.loss == "ce" else out
                P = self.perturbation(Xt)
            z = self._init_param(Xt)
            opt = torch.optim.Adam([z], lr=self.lr)
            losses, errors = np.zeros(self.epochs), np.zeros(self.epochs)
            bar = tqdm(
                range(self.epochs), desc="context mask", disable=not self.progress, leave=False
            )
            for ep in bar:
                opt.zero_grad(set_to_none=True)
                M = self._mask(z)
                X_hat = (1 - M) * P + M * Xt
                err = self._error(model(X_hat), ref)
                loss = err.sum()  # summed, not averaged: each sample's gradient is its own
                if self.area is not None and ep >= self.warmup_epochs:
                    loss = loss + self.area_weight * area_loss(M, self.area).sum()
                loss.backward()
                opt.step()
                if self.parametrization == "clamp":
                    with torch.no_grad():
                        z.clamp_(0.0, 1.0)
                losses[ep], errors[ep] = loss.item(), err.sum().item()
                if self.progress:
                    bar.set_postfix(loss=f"{losses[ep] / len(Xt):.4f}")
            mask = self._mask(z).detach()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return ContextMaskResult(
            mask=mask.cpu().numpy().astype(np.float32),
            loss=losses,
            error=errors,
            perturbation=P.cpu().numpy().astype(np.float32),
            seconds=time.perf_counter() - t0,
            entropy=float(-(ref * torch.log(ref.clamp_min(1e-30))).sum())
            if self.loss == "ce"
            else 0.0,
            config=asdict(self),
        )

    def __call__(self, model: torch.nn.Module, X, *, device=None) -> np.ndarray:
        """The saliency maps ``(n, ch, t)`` (the masks)."""
        return self.attribute(model, X, device=device).mask


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
def context_mask(model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, **kw) -> np.ndarray:
    """Saliency ``(n, ch, t)`` in [0, 1]: the learned context-aware mask (1 = must be kept).

    Keywords are :class:`ContextMask`'s (``epochs``, ``lr``, ``area``, ``area_weight``,
    ``warmup_epochs``, ``temporal_kernel``, ``spatial_kernel``, ``context``, ``loss``,
    ``init``, ``parametrization``, ``progress``, ``seed``). ``target`` is not used: the loss
    matches the model's whole output distribution on ``X`` (paper eq. 11), not one class, so
    the method is registered with ``uses_target=False`` and :func:`~eegnb.explain.explain`
    refuses a target other than the predicted class.
    """
    return _kw_config(kw)(model, X, device=X.device)
