"""Attribution baselines through captum, and the random chance control.

Every method here maps ``X (n, ch, t)`` to a map of the same shape (``domain="time"``) and
runs on any ``torch.nn.Module`` mapping ``(n, ch, t)`` to logits. Registered:

=========================  ================================================================
``integrated_gradients``   captum ``IntegratedGradients`` from a zero baseline, ``n_steps=32``
                           (Gauss-Legendre), signed. Completeness: the map sums to
                           ``logit(x) - logit(0)`` of the target class (up to the quadrature
                           error). ``internal_batch_size=1024`` bounds the inputs per
                           forward/backward pass (``n * n_steps`` in all; None: all at once).
``input_x_gradient``       captum ``InputXGradient``: ``x * d logit_target / d x``, signed.
``smoothgrad``             captum ``NoiseTunnel`` (``nt_type="smoothgrad"``) over ``Saliency``:
                           mean of ``|d logit_target / d x|`` over ``nt_samples=16`` noisy
                           copies ``x + e``, ``e ~ N(0, (noise_level * std(x))^2)``, where
                           ``std(x)`` is the standard deviation of *that sample* over all
                           channels and times (``noise_level=0.1``). A constant sample (std 0)
                           gets no noise, i.e. its plain absolute gradient. ``seed`` fixes the
                           noise. Non-negative.
``occlusion``              captum ``Occlusion``: windows of 1 channel x ``window`` samples
                           (default 32) set to 0, moved by ``stride`` samples (default
                           ``window``: non-overlapping blocks) along time and by one channel;
                           the last window of a row is cut off at the end of the signal. The
                           value of an element is the drop of the target logit,
                           ``logit(x) - logit(x with the window zeroed)``, averaged over the
                           windows that contain it; signed (negative: zeroing raised the
                           logit). Cost: ``ch * ceil((t - window) / stride + 1)`` forward
                           passes per sample, ``perturbations_per_eval`` of them batched
                           together (default: as many as keep a batch near 512 inputs).
``random``                 The chance control: uniform ``[0, 1)`` values, no model involved.
                           The map of a sample depends only on ``seed`` and the sample's
                           values (its bytes seed the generator together with ``seed``), so it
                           is the same whatever the batching, the other samples or the model.
                           ``uses_target=False``.
=========================  ================================================================

Hand-written here: only the per-sample noise scale of ``smoothgrad`` (captum's NoiseTunnel
takes one absolute ``stdevs`` per input tensor; we run it on ``x / std(x)`` with a model that
multiplies the scale back, so one batched call gives each sample its own noise level) and the
content-seeded random map.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Occlusion, Saliency

from eegnb.explain.registry import register

__all__ = ["integrated_gradients", "input_x_gradient", "smoothgrad", "occlusion", "random_map"]


@register(
    "integrated_gradients",
    domain="time",
    signed=True,
    description="captum IntegratedGradients from a zero baseline (n_steps=32); sums to logit(x) - logit(0)",
    paper="Sundararajan, Taly & Yan 2017 (ICML), Axiomatic attribution for deep networks",
)
def integrated_gradients(
    model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, n_steps: int = 32, internal_batch_size: int | None = 1024
) -> np.ndarray:
    """Integrated gradients ``(n, ch, t)`` of the target logit along the line from 0 to ``X``."""
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    attr = IntegratedGradients(model).attribute(
        X, baselines=torch.zeros_like(X), target=target, n_steps=int(n_steps), internal_batch_size=internal_batch_size
    )
    return attr.detach().cpu().numpy()


@register(
    "input_x_gradient",
    domain="time",
    signed=True,
    description="captum InputXGradient: input times the gradient of the target logit",
    paper="Shrikumar et al. 2016 (arXiv:1605.01713); Ancona et al. 2018 (ICLR)",
)
def input_x_gradient(model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """``X * d logit_target / d X``, ``(n, ch, t)``."""
    return InputXGradient(model).attribute(X.clone().requires_grad_(True), target=target).detach().cpu().numpy()


class _Rescaled(torch.nn.Module):
    """``model(z * scale)``: lets NoiseTunnel add noise in units of each sample's std."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.model(z * scale[:, None, None])


@register(
    "smoothgrad",
    domain="time",
    signed=False,
    description="captum NoiseTunnel(Saliency): mean |gradient| over 16 noisy copies, noise std 0.1 x sample std",
    paper="Smilkov et al. 2017 (arXiv:1706.03825), SmoothGrad",
)
def smoothgrad(
    model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, nt_samples: int = 16, noise_level: float = 0.1,
    seed: int = 0,
) -> np.ndarray:
    """SmoothGrad ``(n, ch, t)``: mean absolute gradient over ``nt_samples`` noisy copies.

    Noise std = ``noise_level`` times the sample's own std over channels x time.
    """
    if int(nt_samples) < 1 or noise_level < 0:
        raise ValueError(f"nt_samples must be >= 1 and noise_level >= 0, got {nt_samples}, {noise_level}")
    scale = X.reshape(len(X), -1).std(1, correction=0)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # constant sample: the rows are replaced below
    z = (X / scale[:, None, None]).clone().requires_grad_(True)
    with torch.random.fork_rng(devices=[X.device] if X.device.type == "cuda" else []):
        torch.manual_seed(seed)
        gz = NoiseTunnel(Saliency(_Rescaled(model))).attribute(
            z, nt_type="smoothgrad", nt_samples=int(nt_samples), stdevs=float(noise_level),
            target=target, additional_forward_args=(scale,), abs=True,
        )
    attr = gz / scale[:, None, None]  # d/dx = (d/dz) / scale
    const = X.reshape(len(X), -1).std(1, correction=0) == 0
    if const.any():  # no noise for a constant sample: its absolute gradient
        attr[const] = Saliency(model).attribute(X[const].clone().requires_grad_(True), target=target[const], abs=True)
    return attr.detach().cpu().numpy()


@register(
    "occlusion",
    domain="time",
    signed=True,
    description="captum Occlusion: drop of the target logit when a 1-channel x 32-sample window is zeroed",
    paper="Zeiler & Fergus 2014 (ECCV), Visualizing and understanding convolutional networks",
)
def occlusion(
    model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, window: int = 32, stride: int | None = None,
    perturbations_per_eval: int | None = None,
) -> np.ndarray:
    """Occlusion map ``(n, ch, t)``: mean drop of the target logit over the windows covering each element."""
    t = X.shape[-1]
    window = min(int(window), t)
    stride = window if stride is None else int(stride)
    if window < 1 or not 1 <= stride <= window:
        raise ValueError(f"need window >= 1 and 1 <= stride <= window, got window={window}, stride={stride}")
    ppe = perturbations_per_eval or max(1, 512 // len(X))
    attr = Occlusion(model).attribute(
        X, sliding_window_shapes=(1, window), strides=(1, stride), baselines=0.0, target=target,
        perturbations_per_eval=int(ppe),
    )
    return attr.detach().cpu().numpy()


def _sample_seed(x: np.ndarray) -> int:
    return int.from_bytes(hashlib.sha256(np.ascontiguousarray(x, dtype=np.float32).tobytes()).digest()[:8], "little")


@register(
    "random",
    domain="time",
    signed=False,
    uses_target=False,
    description="chance control: uniform [0, 1) map seeded by seed= and the sample, independent of the model",
    paper="random baseline (Adebayo et al. 2018, Sanity checks for saliency maps; Hooker et al. 2019, ROAR)",
)
def random_map(model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, seed: int = 0) -> np.ndarray:
    """Uniform random map ``(n, ch, t)``; sample ``i`` drawn from ``default_rng([seed, hash(x_i)])``."""
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    x = X.detach().cpu().numpy()
    return np.stack([np.random.default_rng([int(seed), _sample_seed(xi)]).random(xi.shape) for xi in x]).astype(
        np.float32
    )

