"""The one entry point for every explainer: ``explain(method, model, X, target=None, **kw)``.

Each method module registers an implementation with :func:`register`. An
implementation receives a frozen model in eval mode on ``device``, ``X`` as a float32
tensor ``(n, ch, t)`` on that device, ``target`` as a long tensor ``(n,)`` and the
method's keyword arguments; it returns a numpy array ``(n, ch, t)`` (time domain) or
``(n, ch, n_bands)`` (frequency domain). Walked through in ``notebooks/01_quickstart``.

:func:`explain` checks its inputs before any method runs: ``X`` must be a non-empty numeric
``(n, ch, t)`` array without NaN/inf; the model must map it to logits ``(n, n_classes)``;
``target`` must be integer-typed (:func:`check_target`) and inside ``[0, n_classes)``; a method
registered with ``uses_target=False`` refuses an explicit target that differs from the
predicted class (it could not honour it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from eegnb.utils import auto_batch_size, get_device

DOMAINS = ("time", "frequency")

#: Methods whose map of a sample does not depend on the other samples of its batch (exactly, or
#: up to floating-point reduction order): ``explain(batch_size=None)`` batches these by
#: :func:`eegnb.utils.auto_batch_size` (small on a CPU, the largest that fits on a GPU). The
#: others (``smoothgrad``'s noise is drawn for the whole batch; ``frequency_mask`` normalises by
#: the batch's spectrum; ``easypeasi`` draws its noise batch by batch) and unknown methods keep
#: the whole ``X`` in one call, as before, so their results do not change.
BATCH_INVARIANT = frozenset({
    "gradient", "input_x_gradient", "integrated_gradients", "occlusion", "random", "context_mask",
    "lrp_epsilon", "lrp_alphabeta", "lrp_epsilon_plus", "lrp_epsilon_alpha2_beta1", "dft_lrp",
})


@dataclass(frozen=True)
class Method:
    """A registered explainer.

    name: registry key. fn: the implementation. domain: ``"time"`` (map has X's shape)
    or ``"frequency"`` (``(n, ch, n_bands)``). signed: True when the map keeps its sign
    (LRP family, integrated gradients, occlusion); False when it is a non-negative importance.
    needs_sfreq: the method needs ``sfreq=`` (frequency methods). uses_target: the map depends
    on ``target`` (False: the method explains the whole output, e.g. ``context_mask``, or
    nothing, ``random``; :func:`explain` then refuses an explicit target other than the
    predicted class). description: one line for tables; paper: the reference; defaults: the
    implementation's keyword defaults (read from its signature).
    """

    name: str
    fn: Callable[..., np.ndarray]
    domain: str
    signed: bool = False
    needs_sfreq: bool = False
    description: str = ""
    paper: str = ""
    defaults: dict = field(default_factory=dict)
    uses_target: bool = True


METHODS: dict[str, Method] = {}


def register(
    name: str,
    *,
    domain: str,
    signed: bool = False,
    needs_sfreq: bool = False,
    description: str = "",
    paper: str = "",
    uses_target: bool = True,
    defaults: dict | None = None,
):
    """Decorator registering ``fn(model, X, target, **kw) -> np.ndarray`` under ``name``.

    ``defaults`` (the method's keywords and their defaults, for tables) are read from ``fn``'s
    keyword parameters unless given (for an ``fn`` that forwards ``**kw`` to a class).
    """
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")

    def deco(fn):
        params = list(inspect.signature(fn).parameters.values())[3:]
        found = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
        METHODS[name] = Method(name, fn, domain, signed, needs_sfreq, description, paper,
                               dict(found if defaults is None else defaults), uses_target)
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


def check_target(target, n: int, n_classes: int | None = None) -> torch.Tensor:
    """``target`` as a long tensor ``(n,)`` (on CPU), or ValueError.

    Accepted: a Python int, or an integer numpy array / torch tensor / list of shape ``()``
    (one class for every sample) or ``(n,)``. Refused: floats (even integral values such as
    ``1.0``: cast with ``.astype(int)``), bools, other shapes and, when ``n_classes`` is given,
    values outside ``[0, n_classes)`` (a negative index would silently pick a class from the end).
    """
    if isinstance(target, (bool, np.bool_)):
        raise ValueError(f"target must be an integer class index, got a bool ({target!r})")
    if isinstance(target, torch.Tensor):
        arr = target.detach().cpu().numpy()
    else:
        try:
            arr = np.asarray(target)
        except Exception as e:  # ragged lists and the like
            raise ValueError(f"target must be an int or an integer array of shape ({n},): {e}") from e
    if arr.dtype == np.bool_:
        raise ValueError("target must hold integer class indices, got a bool array")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"target must hold integer class indices, got dtype {arr.dtype}; "
            "cast it first (e.g. target.astype(int) or target.long())"
        )
    if arr.ndim > 1 or (arr.ndim == 1 and len(arr) != n):
        raise ValueError(f"target must be one int or shape ({n},), got shape {arr.shape}")
    if n_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = arr[(arr < 0) | (arr >= n_classes)]
        raise ValueError(
            f"target must lie in [0, {n_classes}) (the model has {n_classes} outputs); got {sorted(set(bad.tolist()))}"
        )
    return torch.as_tensor(np.broadcast_to(arr, (n,)).astype(np.int64))


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
    return_info: bool = False,
    amp: bool = False,
    **kw,
):
    """Explain ``model``'s decisions on ``X`` with a registered ``method``.

    Parameters
    ----------
    method : a key of :data:`METHODS` (``sorted(METHODS)`` lists them).
    model : a torch module mapping ``(n, ch, t)`` float32 to logits ``(n, n_classes)``.
    X : ``(n, ch, t)`` numpy array or tensor.
    target : class index per sample ``(n,)`` or one int for all (integer dtype, in
        ``[0, n_classes)``; see :func:`check_target`); default the predicted class. Methods
        with ``uses_target=False`` accept only ``None`` or the predicted class.
    device : ``"cpu"``, ``"cuda"`` or ``None``/``"auto"``.
    batch_size : samples per call of the implementation. Default: for the methods of
        :data:`BATCH_INVARIANT` (results do not depend on the batching)
        :func:`eegnb.utils.auto_batch_size` (16 on a CPU, the largest that fits on a GPU); for the
        others all of ``X`` in one call (or the method's own batching).
    return_info : also return a dict of what the method reports beside the maps (e.g.
        ``epochs_run (n,)`` for the mask optimisers, ``band_edges (n_bands, 2)`` in Hz for
        frequency methods); always holds ``method``, ``domain`` and ``batch_size``.
    amp : run the method under CUDA autocast (float16 matrix products; float32 elsewhere).
        Faster on a GPU and approximate: ``tests/test_speed_batching.py`` checks it against
        float32. CUDA only (``ValueError`` on a CPU).
    **kw : the method's keywords (see its docstring), e.g. ``epochs`` for ``"context_mask"``,
        ``sfreq``/``n_bands`` for frequency methods.

    Returns
    -------
    numpy array ``(n, ch, t)`` for time-domain methods, ``(n, ch, n_bands)`` for frequency
    methods (with ``return_info=True``: ``(maps, info)``). Maps of methods with
    ``METHODS[name].signed`` keep their sign (LRP family, integrated
    gradients, input x gradient, occlusion, easyPEASI); the others are non-negative importances.
    """
    if method not in METHODS:
        raise ValueError(f"unknown explanation method {method!r}; known: {sorted(METHODS)}")
    m = METHODS[method]
    if m.needs_sfreq and "sfreq" not in kw:
        raise ValueError(f"method {method!r} works in the frequency domain and needs sfreq= (Hz)")
    dev = get_device(device)
    if amp and dev.type != "cuda":
        raise ValueError(f"amp=True (mixed precision) needs a CUDA device; got device {dev}")
    Xt = _as_input(X)
    n = len(Xt)
    if n == 0:
        raise ValueError(f"X is empty: shape {tuple(Xt.shape)}; explain needs at least one sample (n >= 1)")
    model = model.to(dev)
    with frozen(model):
        try:
            proba = predict(model, Xt, device=dev)
        except IndexError as e:  # softmax over dim 1 of a 1-D output
            raise ValueError(f"model must map X (n, ch, t) to logits (n, n_classes): {e}") from e
        if proba.ndim != 2 or proba.shape[0] != n:
            raise ValueError(f"model must map X (n, ch, t) to logits (n, n_classes); got output shape {proba.shape}")
        predicted = torch.as_tensor(proba.argmax(1))
        if target is None:
            target_t = predicted
        else:
            target_t = check_target(target, n, proba.shape[1])
            if not m.uses_target and not torch.equal(target_t, predicted):
                idx = torch.nonzero(target_t != predicted)[:5, 0].tolist()
                raise ValueError(
                    f"method {method!r} does not use target, so it cannot explain a class other than the "
                    f"predicted one; target differs from the predicted class at samples {idx}"
                    f"{' ...' if int((target_t != predicted).sum()) > 5 else ''}: pass target=None"
                )
        if batch_size is not None:
            if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
                raise ValueError(f"batch_size must be None or a positive integer, got {batch_size!r}")
            bs = int(batch_size)
        elif method in BATCH_INVARIANT:
            bs = auto_batch_size(model, tuple(Xt.shape[1:]), dev, n=n)
        else:
            bs = n
        outs, infos = [], []
        for i in range(0, n, bs):
            xb = Xt[i : i + bs].to(dev)
            tb = target_t[i : i + bs].to(dev)
            with torch.autocast("cuda", dtype=torch.float16, enabled=bool(amp)):
                res = m.fn(model, xb, tb, **kw)
            # An implementation may return ``(maps, info)`` to report more than the maps.
            res, inf = res if isinstance(res, tuple) else (res, {})
            outs.append(np.asarray(res))
            infos.append((len(xb), inf))
    out = np.concatenate(outs) if outs else np.zeros((0,) + tuple(Xt.shape[1:]), np.float32)
    if m.domain == "time" and out.shape != tuple(Xt.shape):
        raise RuntimeError(f"{method} returned {out.shape}, expected {tuple(Xt.shape)}")
    if m.domain == "frequency" and (out.ndim != 3 or out.shape[:2] != tuple(Xt.shape[:2])):
        raise RuntimeError(f"{method} returned {out.shape}, expected (n, ch, n_bands)")
    out = out.astype(np.float32, copy=False)
    if return_info:
        return out, _merge_info(infos, method=method, domain=m.domain, batch_size=bs)
    return out


#: Info that describes the map layout, never one sample (a batch of n_bands samples must not
#: concatenate the band edges).
_SHARED_INFO = frozenset({"band_edges", "freqs", "method", "domain"})


def _merge_info(infos: list[tuple[int, dict]], **base) -> dict:
    """Join per-batch info: per-sample arrays (first axis = batch length) are concatenated,
    anything else must agree across batches (e.g. band edges)."""
    info = dict(base)
    keys = {k for _, inf in infos for k in inf}
    for k in sorted(keys):
        vals = [(nb, inf.get(k)) for nb, inf in infos]
        per_sample = k not in _SHARED_INFO and all(
            isinstance(v, np.ndarray) and v.ndim >= 1 and len(v) == nb for nb, v in vals)
        if per_sample and len(vals) > 1:
            info[k] = np.concatenate([v for _, v in vals])
        else:
            first = vals[0][1]
            for _, v in vals[1:]:
                if not np.array_equal(np.asarray(v), np.asarray(first)):
                    raise RuntimeError(f"explainer info {k!r} differs between batches: {first!r} vs {v!r}")
            info[k] = first
    return info


def _forwarded(fn) -> str:
    kinds = {p.kind for p in inspect.signature(fn).parameters.values()}
    return "see the method's docstring" if inspect.Parameter.VAR_KEYWORD in kinds else ""


def methods_table():
    """A pandas DataFrame describing the registered methods.

    Columns: domain, signed, uses_target, needs_sfreq, keywords (the implementation's keyword
    defaults), paper, description; one row per method, in registration order.
    """
    import pandas as pd

    return pd.DataFrame(
        [
            dict(method=m.name, domain=m.domain, signed=m.signed, uses_target=m.uses_target,
                 needs_sfreq=m.needs_sfreq,
                 keywords=", ".join(f"{k}={v!r}" for k, v in m.defaults.items()) or _forwarded(m.fn),
                 paper=m.paper, description=m.description)
            for m in METHODS.values()
        ]
    ).set_index("method")
