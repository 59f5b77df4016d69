"""The one entry point for every explainer: ``explain(method, model, X, target=None, **kw)``.

Each method module registers an implementation with :func:`register`. An
implementation receives a frozen model in eval mode on ``device``, ``X`` as a float32
tensor ``(n, ch, t)`` on that device, ``target`` as a long tensor ``(n,)`` and the
method's keyword arguments; it returns a numpy array ``(n, ch, t)`` (time domain) or
``(n, ch, n_bands)`` (frequency domain). Walked through in ``notebooks/01_quickstart``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from eegnb.utils import get_device, to_numpy

DOMAINS = ("time", "frequency")


@dataclass(frozen=True)
class Method:
    """A registered explainer.

    name: registry key. fn: the implementation. domain: ``"time"`` (map has X's shape)
    or ``"frequency"`` (``(n, ch, n_bands)``). signed: True when the map keeps its sign
    (LRP family); False when it is a non-negative importance. needs_sfreq: the method
    needs ``sfreq=`` (frequency methods). description: one line for tables.
    """

    name: str
    fn: Callable[..., np.ndarray]
    domain: str
    signed: bool = False
    needs_sfreq: bool = False
    description: str = ""
    paper: str = ""
    defaults: dict = field(default_factory=dict)


METHODS: dict[str, Method] = {}


def register(
    name: str,
    *,
    domain: str,
    signed: bool = False,
    needs_sfreq: bool = False,
    description: str = "",
    paper: str = "",
):
    """Decorator registering ``fn(model, X, target, **kw) -> np.ndarray`` under ``name``."""
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")

    def deco(fn):
        METHODS[name] = Method(name, fn, domain, signed, needs_sfreq, description, paper)
        return fn

    return deco


@contextmanager
def frozen(model: torch.nn.Module):
    """Eval mode and ``requires_grad=False`` on every parameter; restored on exit."""
    was_training = model.training
    flags = [p.requires_grad for p in model.parameters()]
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        yield model
    finally:
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)
        model.train(was_training)


def _as_input(X) -> torch.Tensor:
    if isinstance(X, torch.Tensor):
        t = X.detach()
    else:
        arr = np.asarray(X)
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"X must be numeric, got dtype {arr.dtype}")
        t = torch.as_tensor(arr)
    if t.ndim != 3:
        raise ValueError(f"X must have shape (n, ch, t); got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("X contains NaN or inf")
    return t.float()


@torch.no_grad()
def predict(model: torch.nn.Module, X, *, device=None, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of ``model`` on ``X (n, ch, t)``, in eval mode."""
    dev = get_device(device)
    Xt = _as_input(X)
    model = model.to(dev)
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(Xt), batch_size):
        out.append(torch.softmax(model(Xt[i : i + batch_size].to(dev)), dim=1).cpu())
    model.train(was)
    return torch.cat(out).numpy() if out else np.zeros((0, 0), dtype=np.float32)


def explain(
    method: str,
    model: torch.nn.Module,
    X,
    target=None,
    *,
    device=None,
    batch_size: int | None = None,
    **kw,
) -> np.ndarray:
    """Explain ``model``'s decisions on ``X`` with a registered ``method``.

    Parameters
    ----------
    method : a key of :data:`METHODS` (``sorted(METHODS)`` lists them).
    model : a torch module mapping ``(n, ch, t)`` float32 to logits ``(n, n_classes)``.
    X : ``(n, ch, t)`` numpy array or tensor.
    target : class index per sample ``(n,)`` or one int for all; default the predicted class.
    device : ``"cpu"``, ``"cuda"`` or ``None``/``"auto"``.
    batch_size : samples per call of the implementation (default: all at once, or the
        method's own batching).
    **kw : the method's keywords (see its docstring), e.g. ``epochs`` for ``"context_mask"``,
        ``sfreq``/``n_bands`` for frequency methods.

    Returns
    -------
    numpy array ``(n, ch, t)`` for time-domain methods, ``(n, ch, n_bands)`` for frequency
    methods. LRP-family maps keep their sign; the others are non-negative importances.
    """
    if method not in METHODS:
        raise ValueError(f"unknown explanation method {method!r}; known: {sorted(METHODS)}")
    m = METHODS[method]
    if m.needs_sfreq and "sfreq" not in kw:
        raise ValueError(f"method {method!r} works in the frequency domain and needs sfreq= (Hz)")
    dev = get_device(device)
    Xt = _as_input(X)
    n = len(Xt)
    model = model.to(dev)
    with frozen(model):
        if target is None:
            target_t = torch.as_tensor(predict(model, Xt, device=dev).argmax(1))
        else:
            tgt = np.asarray(to_numpy(target))
            if tgt.ndim > 1 or (tgt.ndim == 1 and len(tgt) != n):
                raise ValueError(f"target must be one int or shape ({n},), got shape {tgt.shape}")
            target_t = torch.as_tensor(np.broadcast_to(tgt, (n,)).copy()).long()
        bs = batch_size or n
        outs = []
        for i in range(0, n, bs):
            xb = Xt[i : i + bs].to(dev)
            tb = target_t[i : i + bs].to(dev)
            outs.append(np.asarray(m.fn(model, xb, tb, **kw)))
    out = np.concatenate(outs) if outs else np.zeros((0,) + tuple(Xt.shape[1:]), np.float32)
    if m.domain == "time" and out.shape != tuple(Xt.shape):
        raise RuntimeError(f"{method} returned {out.shape}, expected {tuple(Xt.shape)}")
    if m.domain == "frequency" and (out.ndim != 3 or out.shape[:2] != tuple(Xt.shape[:2])):
        raise RuntimeError(f"{method} returned {out.shape}, expected (n, ch, n_bands)")
    return out.astype(np.float32, copy=False)


def methods_table():
    """A pandas DataFrame describing the registered methods (name, domain, signed, paper)."""
    import pandas as pd

    return pd.DataFrame(
        [
            dict(method=m.name, domain=m.domain, signed=m.signed, paper=m.paper, description=m.description)
            for m in METHODS.values()
        ]
    ).set_index("method")
