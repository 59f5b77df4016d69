"""Gradient saliency (Simonyan et al. 2014) through captum: ``|d logit_target / d X|``."""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import Saliency

from eegnb.explain.registry import register


@register(
    "gradient",
    domain="time",
    signed=False,
    description="absolute input gradient of the target logit (captum Saliency)",
    paper="Simonyan, Vedaldi & Zisserman 2014 (arXiv:1312.6034); baseline in papers 1 and 2",
)
def gradient(model: torch.nn.Module, X: torch.Tensor, target: torch.Tensor, abs: bool = True) -> np.ndarray:
    """Saliency ``(n, ch, t)``: the absolute gradient of the target logit w.r.t. the input."""
    x = X.clone().requires_grad_(True)
    attr = Saliency(model).attribute(x, target=target, abs=abs)
    return attr.detach().cpu().numpy()
