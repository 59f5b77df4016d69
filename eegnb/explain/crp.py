"""Concept relevance propagation (CRP) on EEGNet's filters, through zennit-crp.

CRP (Achtibat et al. 2023, Nature Machine Intelligence 5:1006) masks the relevance flowing
through one layer so that only chosen channels ("concepts", here: the filters of EEGNet's
separable-convolution block) pass it on. Conditioned on a class (relevance initialised at
that class's logit) and on filter ``f``, the input heatmap shows where in channel x time the
evidence that filter ``f`` contributes to the class lies; the heatmaps of all filters of a
layer sum to the unconditioned LRP heatmap exactly (the backward pass is linear in the relevance
at the layer), and the filter relevances sum to the explained logit up to what biases and epsilon
absorb above the layer (measured, per rule, by ``eegnb.experiments.crp.crp_diagnostics``).
Relevance maximisation picks, for each filter,
the reference samples in which it carries the most relevance. Walked through in
``notebooks/30_crp_concepts``; frequency-resolved concepts in ``notebooks/31_crp_frequency_topography``.

Supported models: any ``nn.Module`` mapping ``(n, ch, t)`` to logits whose concept layer is a
convolution or linear layer: by default EEGNet's separable block, else the model's last
``Conv1d``/``Conv2d`` (see :func:`concept_layer`); BatchNorms are traced on the first sample.

zennit-crp's ``CondAttribution`` sums the input heatmap over dimension 1 (image colour
channels); for our ``(n, ch, t)`` input that would sum over electrodes, so
:class:`ChannelTimeAttribution` keeps the full channel x time map.

Public API:

- :func:`concept_layer` -- default CRP layer of a model (EEGNet: ``net.conv_separable_point``).
- :func:`filter_relevance` -- per-sample relevance of each filter ``(n, n_filters)``
  (class-conditional) and the unconditioned heatmap.
- :func:`concept_heatmaps` -- per-sample, per-filter heatmaps ``(n, n_filters, ch, t)``.
- :func:`concept_spectra` -- the same through the DFT inspection layer: ``(n, n_filters, ch, n_bins)``.
- :func:`relevance_maximization` -- reference samples per filter (zennit-crp
  ``FeatureVisualization``) with their concept heatmaps.

The default composite is LRP-epsilon on every layer (epsilon = 1e-6, BatchNorm merged;
:func:`eegnb.explain.lrp.make_composite`); any rule of ``lrp.RULES`` or any zennit composite can
be passed. We measured why not zennit's ``EpsilonPlus`` (the CRP authors' usual choice for
images): with z+ on the convolutions the frequency profile of the relevance follows the input's
power spectrum (the 1/f background, 0-4 Hz holding about half of it) instead of the class
evidence, whereas LRP-epsilon puts most relevance in the planted mu/beta bands
(``notebooks/31_crp_frequency_topography``).
"""

from __future__ import annotations

import contextlib
import gc
import io
import tempfile
from dataclasses import dataclass, field
from unittest import mock

import numpy as np
import torch
from crp.attribution import CondAttribution
from crp.concepts import ChannelConcept
from crp.helper import load_maximization
from crp.visualization import FeatureVisualization
from torch import nn

from eegnb.explain import lrp
from eegnb.explain.registry import check_target, frozen

__all__ = [
    "ChannelTimeAttribution",
    "concept_layer",
    "ConceptRelevance",
    "filter_relevance",
    "concept_heatmaps",
    "concept_spectra",
    "ReferenceSamples",
    "relevance_maximization",
]

DEFAULT_RULE = "epsilon"


class ChannelTimeAttribution(CondAttribution):
    """zennit-crp ``CondAttribution`` whose heatmap keeps every input dimension: ``(n, ch, t)``."""

    def heatmap_modifier(self, data, on_device=None):
        heatmap = data.grad.detach()
        return heatmap.to(on_device) if on_device else heatmap


def concept_layer(model: nn.Module) -> str:
    """Name of the layer whose filters are the concepts.

    EEGNet: the pointwise convolution of the separable block (``net.conv_separable_point``,
    F2 filters; its BatchNorm is merged into it). Other models: ``model.concept_layer`` if
    set, else the last ``nn.Conv1d``/``nn.Conv2d`` (so any convolutional ``(n, ch, t)``
    model works, with or without ``n_chans``/``n_times``). A model with no convolution (e.g.
    only dense layers) raises ValueError unless ``layer=`` names a ``nn.Linear`` to use.
    """
    if hasattr(model, "concept_layer"):
        return str(model.concept_layer)
    names = dict(model.named_modules())
    if "net.conv_separable_point" in names:
        return "net.conv_separable_point"
    convs = [n for n, m in model.named_modules() if isinstance(m, (nn.Conv1d, nn.Conv2d))]
    if not convs:
        raise ValueError(
            f"{type(model).__name__} has no Conv1d/Conv2d layer to take concepts from: pass layer= "
            "(a convolution or linear layer's name) or set model.concept_layer"
        )
    return convs[-1]


def _n_filters(model: nn.Module, layer: str) -> int:
    mod = dict(model.named_modules()).get(layer)
    if mod is None:
        raise ValueError(f"no layer named {layer!r} in {type(model).__name__}")
    n = getattr(mod, "out_channels", None) or getattr(mod, "out_features", None)
    if n is None:
        raise ValueError(f"layer {layer!r} is not a convolution or linear layer")
    return int(n)


def _filter_list(filters, n_f: int, layer: str) -> list[int]:
    """``filters`` as a list of ints (default all ``n_f``); ValueError outside ``[0, n_f)``."""
    filters = list(range(n_f)) if filters is None else [int(f) for f in np.atleast_1d(filters)]
    if any(f < 0 or f >= n_f for f in filters):
        raise ValueError(f"filters must lie in [0, {n_f}) for layer {layer!r}, got {filters}")
    return filters


def _inputs(model: nn.Module, X, target) -> tuple[torch.Tensor, torch.Tensor]:
    p = next(model.parameters())
    x = torch.as_tensor(X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X), dtype=torch.float32)
    x = x.to(p.device)
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"X must have shape (n, ch, t) with n >= 1; got {tuple(x.shape)}")
    if target is None:
        with torch.no_grad():
            t = model(x).argmax(1)
    else:
        with torch.no_grad():
            n_classes = model(x[:1]).shape[1]
        t = check_target(target, len(x), n_classes).to(p.device)
    return x, t


def _composite(model, composite, rule, rule_kw, x):
    """The given composite, or ``lrp.make_composite`` traced on ``x[:1]`` (any model's BatchNorms)."""
    if composite is not None:
        return composite
    return lrp.make_composite(rule, model=model, example=x[:1], **rule_kw)


@dataclass
class ConceptRelevance:
    """Class-conditional relevance of every filter of ``layer``.

    ``filter_relevance (n, n_filters)``: relevance reaching each filter (summed over its output
    positions) when relevance starts at the ``target`` logit; ``heatmap (n, ch, t)``: the
    unconditioned input heatmap; ``logit (n,)``; ``target (n,)``.
    """

    layer: str
    target: np.ndarray
    logit: np.ndarray
    filter_relevance: np.ndarray
    heatmap: np.ndarray

    def top_filters(self, k: int = 3) -> np.ndarray:
        """Indices ``(n, k)`` of each sample's most relevant filters (largest positive relevance)."""
        return np.argsort(-self.filter_relevance, axis=1)[:, :k]


def filter_relevance(model: nn.Module, X, target=None, *, layer: str | None = None, composite=None,
                     rule: str = DEFAULT_RULE, batch_size: int = 64, **rule_kw) -> ConceptRelevance:
    """CRP filter relevance ``(n, n_filters)`` of ``layer`` for class ``target`` (default predicted).

    ``X (n, ch, t)``; one LRP pass per sample batch. ``rule``/``rule_kw`` build the composite
    when none is given.
    """
    layer = layer or concept_layer(model)
    _n_filters(model, layer)
    rels, heats, logits, targets = [], [], [], []
    with frozen(model):
        x_all, t_all = _inputs(model, X, target)
        comp = _composite(model, composite, rule, rule_kw, x_all)
        attribution = ChannelTimeAttribution(model, no_param_grad=False)
        for i in range(0, len(x_all), batch_size):
            x = x_all[i : i + batch_size].clone().requires_grad_(True)
            t = t_all[i : i + batch_size]
            conds = [{"y": [int(c)]} for c in t]
            attr = attribution(x, conds, comp, record_layer=[layer])
            rels.append(ChannelConcept().attribute(attr.relevances[layer], abs_norm=False).cpu().numpy())
            heats.append(attr.heatmap.cpu().numpy())
            logits.append(attr.prediction.detach().gather(1, t[:, None])[:, 0].cpu().numpy())
            targets.append(t.cpu().numpy())
    return ConceptRelevance(layer, np.concatenate(targets), np.concatenate(logits),
                            np.concatenate(rels).astype(np.float32), np.concatenate(heats).astype(np.float32))


def _conditional(model, x_all, t_all, layer, filters, comp, batch_size, record=None):
    """Rows (sample, filter): input heatmap, and the relevance at ``record`` if given."""
    n, F = len(x_all), len(filters)
    heat, rec = [], []
    attribution = ChannelTimeAttribution(model, no_param_grad=False)
    rows = [(i, f) for i in range(n) for f in filters]
    for s in range(0, len(rows), batch_size):
        chunk = rows[s : s + batch_size]
        idx = torch.as_tensor([i for i, _ in chunk], device=x_all.device)
        x = x_all[idx].clone().requires_grad_(True)
        conds = [{layer: [int(f)], "y": [int(t_all[i])]} for i, f in chunk]
        attr = attribution(x, conds, comp, record_layer=[record] if record else [])
        heat.append(attr.heatmap.cpu().numpy())
        if record:
            rec.append(attr.relevances[record].cpu().numpy())
    heat = np.concatenate(heat).reshape((n, F) + tuple(x_all.shape[1:]))
    if record:
        r = np.concatenate(rec)
        return heat, r.reshape((n, F) + r.shape[1:])
    return heat, None


def concept_heatmaps(model: nn.Module, X, filters=None, target=None, *, layer: str | None = None, composite=None,
                     rule: str = DEFAULT_RULE, batch_size: int = 64, **rule_kw) -> np.ndarray:
    """Conditional heatmaps ``(n, n_filters, ch, t)``: relevance of ``target`` through each filter only.

    ``filters``: filter indices (default all filters of ``layer``). Summed over all filters
    they give the unconditioned heatmap (:func:`filter_relevance`'s ``heatmap``).
    """
    layer = layer or concept_layer(model)
    n_f = _n_filters(model, layer)
    filters = _filter_list(filters, n_f, layer)
    with frozen(model):
        x_all, t_all = _inputs(model, X, target)
        comp = _composite(model, composite, rule, rule_kw, x_all)
        heat, _ = _conditional(model, x_all, t_all, layer, filters, comp, batch_size)
    return heat.astype(np.float32)


def concept_spectra(model: nn.Module, X, filters=None, target=None, *, layer: str | None = None,
                    sfreq: float | None = None, rule: str = DEFAULT_RULE, batch_size: int = 64,
                    return_heatmaps: bool = False, **rule_kw):
    """Conditional relevance per filter on frequency bins ``(n, n_filters, ch, n_times // 2 + 1)``.

    CRP through the DFT virtual inspection layer (:class:`eegnb.explain.dft_lrp.VirtualInspection`):
    the relevance of each filter, conditioned on ``target``, lands on the Fourier coefficients of
    every channel. Bins are ``np.fft.rfftfreq(t, 1 / sfreq)``. With ``return_heatmaps`` also the
    time-domain heatmaps ``(n, n_filters, ch, t)`` of the same pass.
    """
    from eegnb.explain.dft_lrp import VirtualInspection

    layer = layer or concept_layer(model)
    n_f = _n_filters(model, layer)
    filters = _filter_list(filters, n_f, layer)
    x_np = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X)
    if x_np.ndim != 3:
        raise ValueError(f"X must have shape (n, ch, t); got {x_np.shape}")
    vi = VirtualInspection(model, sfreq=sfreq, n_times=x_np.shape[-1], n_chans=x_np.shape[1])
    comp = lrp.make_composite(rule, model=vi, **rule_kw)
    with frozen(vi):
        x_all, t_all = _inputs(vi, x_np, target)
        heat, coef = _conditional(vi, x_all, t_all, "model." + layer, filters, comp, batch_size, record="dft")
    spec = vi.fold(coef).astype(np.float32)
    return (spec, heat.astype(np.float32)) if return_heatmaps else spec


class _Samples(torch.utils.data.Dataset):
    def __init__(self, X: torch.Tensor, y: torch.Tensor):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i].clone(), int(self.y[i])


@dataclass
class ReferenceSamples:
    """Relevance maximisation: per filter, the samples carrying the most relevance.

    ``indices (n_ref, n_filters)``: sample indices into ``X`` (best first); ``relevance
    (n_ref, n_filters)``: their filter relevance, normalised per sample by the sum of absolute
    filter relevances (zennit-crp's ``abs_norm``); ``heatmaps[f] (n_ref, ch, t)``: the filter's
    concept heatmap on each reference sample (relevance initialised at the filter's output).
    """

    layer: str
    indices: np.ndarray
    relevance: np.ndarray
    heatmaps: dict[int, np.ndarray] = field(default_factory=dict)


def relevance_maximization(model: nn.Module, X, target=None, *, layer: str | None = None, n_ref: int = 8,
                           filters=None, composite=None, rule: str = DEFAULT_RULE, batch_size: int = 64,
                           heatmaps: bool = True, **rule_kw) -> ReferenceSamples:
    """Reference samples per filter by relevance maximisation (zennit-crp ``FeatureVisualization``).

    Each sample is explained for ``target`` (default its predicted class); for every filter of
    ``layer`` the ``n_ref`` samples with the largest (abs-normalised, summed) filter relevance
    are kept, and with ``heatmaps`` their concept heatmaps ``(ch, t)`` are computed. Runs in
    a temporary folder (FeatureVisualization writes its tables to disk).
    """
    layer = layer or concept_layer(model)
    n_f = _n_filters(model, layer)
    filters = _filter_list(filters, n_f, layer)
    if int(n_ref) < 1:
        raise ValueError(f"n_ref must be >= 1, got {n_ref}")
    with frozen(model):
        x_all, t_all = _inputs(model, X, target)
        comp = _composite(model, composite, rule, rule_kw, x_all)
        n_ref = min(int(n_ref), len(x_all))
        attribution = ChannelTimeAttribution(model, no_param_grad=False)
        with tempfile.TemporaryDirectory(prefix="eegnb-crp-") as tmp:
            fv = FeatureVisualization(attribution, _Samples(x_all, t_all), {layer: ChannelConcept()},
                                      path=tmp, device=x_all.device)
            # FeatureVisualization calls gc.collect() a dozen times (about 1 s each in a process
            # holding torch + MNE); nothing here needs it. Its progress output goes to a buffer.
            with mock.patch.object(gc, "collect", lambda *a: 0), \
                    contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                fv.run(comp, 0, len(x_all), batch_size=batch_size, checkpoint=10**9)
            d_sorted, rel_sorted, _ = load_maximization(fv.RelMax.PATH, layer)
            out = ReferenceSamples(layer, np.asarray(d_sorted[:n_ref])[:, filters].astype(int),
                                   np.asarray(rel_sorted[:n_ref])[:, filters].astype(np.float32))
            if heatmaps:
                for f in filters:
                    ref = fv.get_max_reference([f], layer, "relevance", (0, n_ref), composite=comp,
                                               rf=False, plot_fn=None, batch_size=batch_size)
                    out.heatmaps[f] = ref[f][1].numpy().astype(np.float32)
    return out
