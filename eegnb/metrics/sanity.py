"""Sanity checks of explanation methods: do the maps depend on what the model learned?

- :func:`cascading_randomisation` (Adebayo et al. 2018, "Sanity checks for saliency maps";
  Quantus ``ModelParameterRandomisation``): re-initialise the model's parameterised layers
  from the output layer backwards, cumulatively, re-explain after each step and compare with
  the trained model's maps by Spearman rank correlation of ``|map|`` per sample. What it
  measures: sensitivity of the method to the model's parameters. Direction: LOWER correlation
  after randomisation is better (a method whose maps survive randomising the whole model
  explains the input, not the model); range [-1, 1].
- :func:`randomisation_sanity`: the correlation after the whole model is randomised;
  ``passes`` when it is below ``threshold`` (default 0.5, our convention: a map that keeps
  more than half of its rank order once every weight is random is not explaining the model).

The explainer is ``eegnb.explain.explain(method, ...)`` with the target fixed to the trained
model's predictions (so a randomised model is asked about the same class), or any
``explain_fn(model, X, target) -> maps``. A map constant on a sample has no rank order: its
correlation is NaN and counted (``n_nan``), and intervals are over the remaining samples
(``eegnb.stats.mean_ci``). Hand-written: the layer cascade on torch modules (Quantus's
version is tied to its own model wrappers and image shapes); Spearman from scipy.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from eegnb.stats import mean_ci
from eegnb.utils import get_device, to_numpy


def parameterised_layers(model: torch.nn.Module) -> list[str]:
    """Names of the modules holding their own parameters, input to output (module order)."""
    return [name for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]


def _reinit(module: torch.nn.Module) -> None:
    if hasattr(module, "reset_parameters"):
        module.reset_parameters()
        return
    for p in module.parameters(recurse=False):  # no initialiser: redraw with the layer's own scale
        with torch.no_grad():
            p.normal_(0.0, float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 1.0)


def rank_correlation(a: np.ndarray, b: np.ndarray, *, absolute: bool = True) -> np.ndarray:
    """Per-sample Spearman correlation ``(n,)`` of ``a`` and ``b (n, ...)`` (of ``|map|`` when
    ``absolute``); NaN where either map is constant on the sample."""
    from scipy.stats import spearmanr

    a = np.asarray(a, float).reshape(len(a), -1)
    b = np.asarray(b, float).reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(f"maps to compare must have the same shape, got {a.shape} and {b.shape}")
    if absolute:
        a, b = np.abs(a), np.abs(b)
    out = np.full(len(a), np.nan)
    for i in range(len(a)):
        if np.ptp(a[i]) == 0 or np.ptp(b[i]) == 0 or not (np.isfinite(a[i]).all() and np.isfinite(b[i]).all()):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[i] = spearmanr(a[i], b[i]).statistic
    return out


def _explainer(method, explain_fn, explain_kw, device) -> Callable:
    if explain_fn is not None:
        return explain_fn
    from eegnb.explain import METHODS, explain

    kw = dict(explain_kw or {})
    if method in METHODS and not METHODS[method].uses_target:
        # a method that ignores the target explains each model's own prediction (it would
        # rightly refuse the trained model's classes once the randomised model predicts others)
        return lambda m, X, t: explain(method, m, X, None, device=device, **kw)
    return lambda m, X, t: explain(method, m, X, t, device=device, **kw)


def _row(step, layer, r) -> dict:
    ci = mean_ci(r, unit_name="sample")
    return dict(step=step, layer=layer, spearman=ci["mean"], spearman_lo=ci["lo"], spearman_hi=ci["hi"],
                n_nan=int(np.isnan(r).sum()), n=int(len(r)))


def cascading_randomisation(
    model: torch.nn.Module,
    X,
    method: str | None,
    target=None,
    *,
    seed: int = 0,
    layers: Sequence[str] | None = None,
    explain_kw: dict | None = None,
    device=None,
    explain_fn: Callable | None = None,
    absolute: bool = True,
    include_reference: bool = True,
) -> pd.DataFrame:
    """Cascading parameter randomisation of ``model`` on ``X (n, ch, t)``, one row per step.

    Steps re-initialise (``reset_parameters``, seeded) the layers in ``layers`` (default: every
    module with its own parameters, :func:`parameterised_layers`) from the output side
    backwards, cumulatively, in a deep copy; the trained model is untouched. ``target``
    defaults to the trained model's predictions and stays fixed. Columns: ``step`` (0 = the
    intact copy re-explained, present when ``include_reference``: it measures the method's own
    run-to-run variation), ``layer`` (randomised last; ``"none"`` at step 0), ``spearman`` (mean
    over samples of the per-sample Spearman correlation with the trained model's maps),
    ``spearman_lo`` / ``spearman_hi`` (95 % t-interval over samples), ``n_nan`` (samples with a
    constant map, excluded), ``n``.
    """
    from eegnb.explain import predict

    dev = get_device(device)
    X = np.asarray(to_numpy(X), dtype=np.float32)
    fn = _explainer(method, explain_fn, explain_kw, dev)
    if target is None:
        target = predict(model, X, device=dev).argmax(1)
    target = np.broadcast_to(np.asarray(to_numpy(target)), (len(X),)).copy()
    ref = np.asarray(fn(model, X, target))
    all_layers = parameterised_layers(model)
    if layers is None:
        layers = all_layers
    unknown = [name for name in layers if name not in all_layers]
    if unknown:
        raise ValueError(f"unknown or parameter-free layers {unknown}; parameterised layers: {all_layers}")
    cascade = [name for name in reversed(all_layers) if name in set(layers)]  # output side first
    if not cascade:
        raise ValueError("the model has no parameterised layers to randomise")
    model_r = copy.deepcopy(model)
    mods = dict(model_r.named_modules())
    rows = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if include_reference:
            rows.append(_row(0, "none", rank_correlation(ref, fn(model_r, X, target), absolute=absolute)))
        for step, name in enumerate(cascade, start=1):
            _reinit(mods[name])
            rows.append(_row(step, name, rank_correlation(ref, fn(model_r, X, target), absolute=absolute)))
    return pd.DataFrame(rows)


def randomisation_sanity(
    model: torch.nn.Module,
    X,
    method: str | None,
    target=None,
    *,
    seed: int = 0,
    explain_kw: dict | None = None,
    device=None,
    explain_fn: Callable | None = None,
    absolute: bool = True,
    threshold: float = 0.5,
) -> dict:
    """Spearman correlation of the maps after randomising the WHOLE model with the trained
    model's maps: ``{"spearman_full", "spearman_lo", "spearman_hi", "passes", "n_nan", "n",
    "threshold"}``. ``passes`` when ``spearman_full < threshold`` (default 0.5); False when
    every sample's correlation is NaN. Lower is better."""
    df = cascading_randomisation(
        model, X, method, target, seed=seed, explain_kw=explain_kw, device=device,
        explain_fn=explain_fn, absolute=absolute, include_reference=False,
    )
    last = df.iloc[-1]
    r = float(last["spearman"])
    return dict(
        spearman_full=r,
        spearman_lo=float(last["spearman_lo"]),
        spearman_hi=float(last["spearman_hi"]),
        passes=bool(np.isfinite(r) and r < threshold),
        n_nan=int(last["n_nan"]),
        n=int(last["n"]),
        threshold=float(threshold),
    )
