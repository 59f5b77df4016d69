"""Paper 1 engine: per-sample early stopping, the blend and perturbation, a region/decoy model,
cache keys holding every ContextMask default."""

from __future__ import annotations

import numpy as np
import torch

from eegnb.explain import explain
from eegnb.explain.context_mask import ContextMask, context_perturbation, initial_attribution

REGION = (slice(2, 5), slice(10, 30))  # what the hand-built model reads
DECOY = (slice(7, 10), slice(10, 30))  # same size, carries the same kind of signal, ignored


class RegionModel(torch.nn.Module):
    """Logits from ``x[:, 2:5, 10:30]`` only (a small tanh readout); the decoy region is ignored."""

    def __init__(self, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(3 * 20, 6, generator=g) / 6)
        self.v = torch.nn.Parameter(torch.randn(6, 2, generator=g))

    def forward(self, x):
        return torch.tanh(x[:, REGION[0], REGION[1]].reshape(len(x), -1) @ self.w) @ self.v


def _toy(n=5, ch=12, t=48, seed=0):
    return torch.randn(n, ch, t, generator=torch.Generator().manual_seed(seed))


def _masks(shape):
    r, d = np.zeros(shape, bool), np.zeros(shape, bool)
    r[REGION], d[DECOY] = True, True
    return r, d


def test_region_model_gradient_and_mask_find_the_region_not_the_decoy():
    X = _toy()
    model = RegionModel()
    r, d = _masks(X.shape[1:])
    g = explain("gradient", model, X)
    assert g[:, r].mean() > 10 * g[:, d].mean() + 1e-12  # decoy gets exactly no gradient
    for es in (True, False):
        res = ContextMask(epochs=60, temporal_kernel=5, spatial_kernel=4, progress=False, early_stopping=es).attribute(model, X)
        np.testing.assert_array_equal(res.mask[:, d], np.float32(0.9))  # the decoy never moves
        assert (np.abs(res.mask[:, r] - 0.9) > 1e-3).mean() > 0.5  # the region does


def _hand_a(model, X, init=0.9):
    """a = dd/dx_hat * (x - p) with x_hat = init * x + (1 - init) * p, written out here."""
    P = context_perturbation(X, 15, 28)
    ref = torch.softmax(model(X), 1).detach()
    xh = (init * X + (1 - init) * P).detach().requires_grad_(True)
    (-(ref * torch.log_softmax(model(xh), 1)).sum()).backward()
    return (xh.grad * (X - P)).numpy()


def test_first_step_follows_eq10_blend_and_perturbation():
    """Adam's first step on the clamped mask is ``-lr * sign(dL/dM)``, and ``dL/dM = dd/dx_hat * (x - p)``
    only for the blend ``(1 - M) * P + M * X`` with the context ``P``: a swapped blend evaluates
    the model at ``0.9 P + 0.1 X`` and flips the factor's sign, a dropped perturbation gives
    ``dd/dx_hat * x``; both change the signs of many elements."""
    X = _toy(4, 12, 48, seed=2)
    model = RegionModel(1)
    a = _hand_a(model, X)
    nz = np.abs(a) > 1e-7
    assert nz.sum() > 100
    res = ContextMask(epochs=1, lr=0.01, parametrization="clamp", progress=False, early_stopping=False).attribute(model, X)
    step = res.mask - 0.9
    np.testing.assert_allclose(step[nz], -0.01 * np.sign(a[nz]), atol=2e-4)
    np.testing.assert_allclose(initial_attribution(model, X), a, rtol=1e-4, atol=1e-8)


def test_batched_early_stopping_equals_per_sample_and_reports_epochs():
    X = _toy(6, 12, 48, seed=3)
    model = RegionModel(2)
    cm = ContextMask(epochs=120, temporal_kernel=5, spatial_kernel=4, progress=False, seed=4, patience=5, tol=1e-4, check_every=7)
    batched = cm.attribute(model, X)
    singles = [cm.attribute(model, X[i : i + 1]) for i in range(len(X))]
    np.testing.assert_allclose(batched.mask, np.concatenate([s.mask for s in singles]), atol=1e-5)
    np.testing.assert_array_equal(batched.epochs_run, np.concatenate([s.epochs_run for s in singles]))
    maps, info = explain("context_mask", model, X, return_info=True, batch_size=4, epochs=120, temporal_kernel=5,
                         spatial_kernel=4, progress=False, seed=4, patience=5, check_every=7)
    np.testing.assert_allclose(maps, batched.mask, atol=1e-5)
    np.testing.assert_array_equal(info["epochs_run"], batched.epochs_run)
    # with area limitation: each sample enters stage 2 on its own, still independent of its batch
    cm2 = ContextMask(epochs=80, warmup_epochs=40, area=0.5, temporal_kernel=5, spatial_kernel=4, progress=False, patience=5)
    b2 = cm2.attribute(model, X)
    s2 = [cm2.attribute(model, X[i : i + 1]) for i in range(len(X))]
    np.testing.assert_allclose(b2.mask, np.concatenate([s.mask for s in s2]), atol=1e-4)
    assert (b2.stage2_start <= 40).all() and (b2.stage2_start >= 1).all()
    assert (b2.epochs_run - b2.stage2_start <= 40).all()


def test_early_stopping_reduces_epochs_and_keeps_the_best_mask():
    X = _toy(6, 12, 48, seed=5)
    model = RegionModel(3)
    kw = dict(epochs=200, temporal_kernel=5, spatial_kernel=4, progress=False)
    fixed = ContextMask(early_stopping=False, **kw).attribute(model, X)
    es = ContextMask(early_stopping=True, **kw).attribute(model, X)
    assert (fixed.epochs_run == 200).all()
    assert es.epochs_run.mean() < 100  # an easy case: the loss plateaus quickly
    # the returned mask is the best seen: its loss is the per-sample minimum of the history
    cm = ContextMask(early_stopping=True, **kw)
    with torch.no_grad():
        P = cm.perturbation(X)
        M = torch.as_tensor(es.mask)
        err = cm._error(model((1 - M) * P + M * X), cm.reference(model(X))).numpy()
    np.testing.assert_allclose(err, np.nanmin(es.loss_per_sample, 0), rtol=1e-4, atol=1e-7)


def test_cache_key_holds_every_contextmask_default(monkeypatch):
    from dataclasses import fields

    from eegnb.experiments import context_mask as ctx

    X = _toy(2, 12, 48).numpy()
    model = RegionModel()
    k0 = ctx.mask_key(model, X, dict(epochs=5))
    names = {f.name for f in fields(ContextMask)} - {"progress"}
    assert set(k0["kw"]) == names
    defaults = list(ContextMask.__init__.__defaults__)
    i = [f.name for f in fields(ContextMask)].index("tol")
    defaults[i] = 1e-2  # a default nobody passes
    monkeypatch.setattr(ContextMask.__init__, "__defaults__", tuple(defaults))
    assert ContextMask().tol == 1e-2
    assert ctx.mask_key(model, X, dict(epochs=5)) != k0


def test_shared_prefix_equals_separate_runs(tmp_path):
    """mask_variants runs the first warmup epochs of 'context' and 'area' once; same masks as two runs."""
    from eegnb.experiments import context_mask as ctx

    X = _toy(3, 12, 48, seed=6).numpy()
    model = RegionModel(4)
    cfg = ctx.with_(ctx.config(True), mask=dict(epochs=30, lr=0.1, init=0.9, early_stopping=False, temporal_kernel=5, spatial_kernel=4),
                    area_warmup=12)
    shared = ctx.mask_variants(cfg, model, X, ["context", "area"], cache_dir=tmp_path)
    for v in ("context", "area"):
        alone = ContextMask(**cfg.mask_kw(v)).attribute(model, X)
        np.testing.assert_allclose(shared[v].mask, alone.mask, atol=1e-6)
        np.testing.assert_allclose(shared[v].loss, alone.loss, rtol=1e-5)
        assert (shared[v].epochs_run == 30).all()
