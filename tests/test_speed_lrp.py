"""Relay hooks (eegnb.explain.lrp.relay_composite) give zennit's maps exactly, on every model and rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain import explain, lrp
from eegnb.models import build
from tests.test_lrp import MODEL_CASES, _randomise, _toy, _x

RULE_KW = [
    ("epsilon", {}),
    ("epsilon", {"epsilon": 0.1, "zero_params": "bias"}),
    ("alphabeta", {}),
    ("epsilon_plus", {}),
    ("epsilon_alpha2_beta1", {"zero_params": "bias"}),
]


def _both(model, X, rule, kw, target=None):
    std = lrp.lrp_relevance(model, X, target, lrp.make_composite(rule, model=model, example=X[:1], **kw))
    fast = lrp.lrp_relevance(model, X, target,
                             lrp.relay_composite(lrp.make_composite(rule, model=model, example=X[:1], **kw)))
    return std, fast


@pytest.mark.parametrize("name,mkw,geom", MODEL_CASES, ids=lambda v: str(v) if isinstance(v, str) else None)
def test_relay_equals_zennit_hooks(name, mkw, geom):
    ch, t, sfreq, n_classes = geom
    torch.manual_seed(0)
    model = _randomise(build(name, ch, t, n_classes, sfreq=sfreq, seed=0, **mkw), zero_shift=False)
    X = _x(3, ch, t)
    for rule, kw in RULE_KW:
        std, fast = _both(model, X, rule, kw, target=np.arange(3) % n_classes)
        assert np.abs(std).max() > 0
        np.testing.assert_allclose(fast, std, rtol=1e-5, atol=1e-6 * np.abs(std).max(), err_msg=f"{name} {rule} {kw}")


def test_relay_on_scrambled_model_and_registered_methods():
    """Out-of-order BatchNorms and an unmerged BatchNorm; explain() goes through the relay path."""
    model = _toy(extra_bn=True, zero_shift=False)
    X = _x(4, 8, 128)
    for rule, kw in RULE_KW:
        std, fast = _both(model, X, rule, kw)
        np.testing.assert_allclose(fast, std, rtol=1e-5, atol=1e-6 * np.abs(std).max())
    std, _ = _both(model, X, "epsilon", {})
    np.testing.assert_allclose(explain("lrp_epsilon", model, X), std, rtol=1e-5, atol=1e-6 * np.abs(std).max())
    # hooks are gone afterwards: the plain gradient is the plain gradient again
    x = torch.as_tensor(X).requires_grad_(True)
    g1 = torch.autograd.grad(model(x)[:, 0].sum(), x)[0]
    assert not any(m._forward_hooks for m in model.modules())
    assert torch.isfinite(g1).all()


def test_relay_batches_like_one_call():
    """One backward per batch: explaining in batches of 1 or all at once gives the same maps."""
    model = _randomise(build("eegnet", 16, 256, 2, sfreq=128.0, seed=0), zero_shift=False)
    X = _x(5, 16, 256)
    a = explain("lrp_epsilon_plus", model, X, batch_size=1)
    b = explain("lrp_epsilon_plus", model, X, batch_size=5)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(a).max())


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (2.0, 1.0)])
def test_alphabeta_equals_zennit_rule(alpha, beta):
    """Our alpha-beta (with its two-pass z+ shortcut for beta=0) equals zennit's AlphaBeta."""
    from zennit.composites import LayerMapComposite
    from zennit.rules import AlphaBeta, Norm, Pass
    from zennit.types import Activation, AvgPool, Convolution

    model = _toy(zero_shift=False)
    X = _x(3, 8, 128)
    ours = explain("lrp_alphabeta", model, X, alpha=alpha, beta=beta)
    ref_comp = LayerMapComposite(
        [(Activation, Pass()), (AvgPool, Norm()), (Convolution, AlphaBeta(alpha, beta)),
         (torch.nn.Linear, AlphaBeta(alpha, beta))], canonizers=lrp.canonizers_for(model, torch.as_tensor(X[:1])))
    ref = lrp.lrp_relevance(model, X, None, ref_comp)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5 * np.abs(ref).max())
