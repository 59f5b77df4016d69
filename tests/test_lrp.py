"""LRP through zennit (eegnb.explain.lrp): conservation, canonizers, sign, every model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from eegnb.explain import METHODS, explain, lrp
from eegnb.models import build

LRP_METHODS = ["lrp_epsilon", "lrp_alphabeta", "lrp_epsilon_plus", "lrp_epsilon_alpha2_beta1"]


class ScrambledEEGNet(nn.Module):
    """EEGNet-like model whose BatchNorms are registered before their convolutions.

    zennit's SequentialMergeBatchNorm pairs leaves by registration order and would merge the
    wrong modules here; ``extra_bn`` adds a BatchNorm after pooling that no layer feeds.
    """

    def __init__(self, n_chans=8, n_times=128, n_classes=2, extra_bn=False):
        super().__init__()
        self.n_chans, self.n_times, self.n_classes, self.sfreq = n_chans, n_times, n_classes, 128.0
        self.bn1, self.bn2, self.bn3 = nn.BatchNorm2d(4), nn.BatchNorm2d(8), nn.BatchNorm2d(8)
        self.conv_temporal = nn.Conv2d(1, 4, (1, 15), padding=(0, 7), bias=False)
        self.conv_spatial = nn.Conv2d(4, 8, (n_chans, 1), groups=4, bias=False)
        self.elu1, self.elu2 = nn.ELU(), nn.ELU()
        self.pool1, self.pool2 = nn.AvgPool2d((1, 4)), nn.AvgPool2d((1, 8))
        self.sep_depth = nn.Conv2d(8, 8, (1, 7), padding=(0, 3), groups=8, bias=False)
        self.sep_point = nn.Conv2d(8, 8, 1, bias=False)
        self.extra_bn = nn.BatchNorm2d(8) if extra_bn else None
        self.fc = nn.Linear(8 * (n_times // 32), n_classes)

    def forward(self, x):
        x = self.bn1(self.conv_temporal(x.unsqueeze(1)))
        x = self.pool1(self.elu1(self.bn2(self.conv_spatial(x))))
        x = self.pool2(self.elu2(self.bn3(self.sep_point(self.sep_depth(x)))))
        if self.extra_bn is not None:
            x = self.extra_bn(x)
        return self.fc(x.flatten(1))


def _toy(seed=0, zero_shift=True, **kw):
    torch.manual_seed(seed)
    return _randomise(ScrambledEEGNet(**kw), seed=seed, zero_shift=zero_shift)


def _randomise(model, seed=0, zero_shift=True):
    """Non-trivial BatchNorm scales; shifts and biases zero when ``zero_shift``."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_var.copy_(torch.rand(c, generator=g) * 2 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            if zero_shift:
                m.running_mean.zero_()
                m.bias.data.zero_()
            else:
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.5)
                m.bias.data.copy_(torch.randn(c, generator=g) * 0.5)
        elif isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)) and m.bias is not None:
            m.bias.data.copy_(torch.zeros_like(m.bias) if zero_shift else torch.randn(m.bias.shape, generator=g) * 0.3)
    return model.eval()


def _x(n, ch, t, seed=1):
    return torch.randn(n, ch, t, generator=torch.Generator().manual_seed(seed))


def test_registered():
    for name in LRP_METHODS:
        m = METHODS[name]
        assert m.domain == "time" and m.signed and not m.needs_sfreq


def test_traced_pairs_beat_registration_order():
    model = _toy(zero_shift=False, extra_bn=True)
    pairs = lrp.batchnorm_pairs(model)
    assert sorted(pairs) == [("conv_spatial", "bn2"), ("conv_temporal", "bn1"), ("sep_point", "bn3")]
    before, after = lrp.canonized_outputs(model, _x(4, 8, 128))
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-5)
    # the merge changed parameters only inside the context: they are restored
    assert model.bn1.running_mean.abs().sum() > 0 and model.conv_temporal.bias is None


@pytest.mark.parametrize("extra_bn", [False, True])
def test_conservation_epsilon_zero_shift(extra_bn):
    model = _toy(extra_bn=extra_bn)
    X = _x(6, 8, 128)
    R = explain("lrp_epsilon", model, X, epsilon=1e-9)
    ratio = lrp.conservation(model, X, R)
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)


def test_bias_absorbs_relevance_and_zero_params_restores_it():
    model = _toy(seed=3, zero_shift=False)
    X = _x(6, 8, 128) * 3
    plain = lrp.conservation(model, X, explain("lrp_epsilon", model, X))
    zeroed = lrp.conservation(model, X, explain("lrp_epsilon", model, X, zero_params="bias"))
    assert np.median(np.abs(plain - 1)) > 0.05  # the merged BatchNorm shifts absorb relevance
    assert np.median(np.abs(zeroed - 1)) < 0.01


def test_relevance_starts_at_target_logit_and_is_signed():
    model = _toy()
    X = _x(5, 8, 128)
    R0 = lrp.lrp_relevance(model, X, 0, lrp.make_composite("epsilon", model=model))
    R1 = lrp.lrp_relevance(model, X, 1, lrp.make_composite("epsilon", model=model))
    assert R0.shape == (5, 8, 128) and R0.dtype == np.float32
    assert (R0 > 0).any() and (R0 < 0).any()
    np.testing.assert_allclose(R0.sum((1, 2)), lrp.explained_logit(model, X, 0), rtol=0.01, atol=1e-4)
    np.testing.assert_allclose(R1.sum((1, 2)), lrp.explained_logit(model, X, 1), rtol=0.01, atol=1e-4)
    # the registry fills target with the predicted class
    pred = model(X).argmax(1).numpy()
    Rp = explain("lrp_epsilon", model, X)
    np.testing.assert_allclose(Rp, np.where(pred[:, None, None] == 0, R0, R1), rtol=1e-4, atol=1e-6)


def test_epsilon_changes_maps():
    model = _toy()
    X = _x(3, 8, 128)
    small = explain("lrp_epsilon", model, X, epsilon=0.01)
    large = explain("lrp_epsilon", model, X, epsilon=100.0)
    assert not np.allclose(small, large)
    # a large epsilon absorbs relevance in the stabiliser
    assert np.abs(large.sum((1, 2))).mean() < np.abs(small.sum((1, 2))).mean()


def test_bad_arguments():
    model = _toy()
    with pytest.raises(ValueError, match="alpha - beta"):
        explain("lrp_alphabeta", model, _x(2, 8, 128), alpha=2.0, beta=0.0)
    with pytest.raises(ValueError, match="rule must be"):
        lrp.make_composite("gamma")
    with pytest.raises(ValueError, match="zero_params"):
        lrp.make_composite("epsilon", zero_params="weight")


MODEL_CASES = [
    ("eegnet", {}, (16, 256, 128.0, 2)),
    ("deepconvnet", {}, (16, 512, 128.0, 2)),
    ("tsception", {}, (16, 512, 128.0, 2)),
    ("tsception", {"activation": "power"}, (16, 512, 128.0, 2)),
    ("sleepcnn", {}, (3, 3000, 100.0, 5)),
]


@pytest.mark.parametrize("name,kw,geom", MODEL_CASES, ids=lambda v: str(v) if isinstance(v, str) else None)
def test_every_model(name, kw, geom):
    ch, t, sfreq, n_classes = geom
    torch.manual_seed(0)
    model = _randomise(build(name, ch, t, n_classes, sfreq=sfreq, seed=0, **kw), zero_shift=True)
    X = _x(3, ch, t)
    before, after = lrp.canonized_outputs(model, X)
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-5)
    for method in ("lrp_epsilon", "lrp_epsilon_plus"):
        R = explain(method, model, X)
        assert R.shape == X.shape and np.isfinite(R).all()
        assert (R > 0).any() and (R < 0).any() or method != "lrp_epsilon"
    # zero biases and BatchNorm shifts: epsilon LRP conserves the logit within 1%, also
    # through TSception's power layer (Pass on square/log, Norm on its pooling)
    ratio = lrp.conservation(model, X, explain("lrp_epsilon", model, X, epsilon=1e-9))
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)


def test_trained_like_model_with_shifts_runs():
    """Real BatchNorm shifts: maps stay finite; zero_params='bias' keeps alpha-beta conservative."""
    model = _randomise(build("eegnet", 16, 256, 2, sfreq=128.0, seed=0), zero_shift=False)
    X = _x(3, 16, 256)
    R = explain("lrp_alphabeta", model, X, zero_params="bias")
    np.testing.assert_allclose(lrp.conservation(model, X, R), 1.0, atol=0.02)


def test_eegnet_batchnorms_all_merged_by_name():
    """EEGNet: every BatchNorm is merged into the convolution feeding it (named pairs)."""
    model = _randomise(build("eegnet", 16, 256, 2, sfreq=128.0, seed=0), zero_shift=False)
    pairs = lrp.batchnorm_pairs(model)
    assert sorted(pairs) == [
        ("net.conv_separable_point", "net.bn_separable"),
        ("net.conv_spatial", "net.bn_spatial"),
        ("net.conv_temporal", "net.bn_temporal"),
    ]
    # the traced pairing finds the same pairs without the model's own declaration
    traced = [p for p in lrp.batchnorm_pairs(_NoDeclaredPairs(model)) if p[1].startswith("inner.")]
    assert sorted(traced) == sorted((f"inner.{a}", f"inner.{b}") for a, b in pairs)


class _NoDeclaredPairs(nn.Module):
    """Wraps a model without exposing ``batchnorm_pairs`` (forces the traced pairing)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.n_chans, self.n_times = inner.n_chans, inner.n_times

    def forward(self, x):
        return self.inner(x)


@pytest.mark.parametrize("rule,stock", [("epsilon_plus", "EpsilonPlus"), ("epsilon_alpha2_beta1", "EpsilonAlpha2Beta1")])
def test_composites_match_zennit_stock_composites(rule, stock):
    """The hand-assembled composites give zennit's own EpsilonPlus / EpsilonAlpha2Beta1 maps."""
    import zennit.composites

    model = _randomise(build("eegnet", 16, 256, 2, sfreq=128.0, seed=0), zero_shift=False)
    X = _x(3, 16, 256)
    ours = lrp.lrp_relevance(model, X, 1, lrp.make_composite(rule, model=model))
    theirs = lrp.lrp_relevance(model, X, 1, getattr(zennit.composites, stock)(canonizers=lrp.canonizers_for(model)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-5 * np.abs(theirs).max())


def test_merged_batchnorm_adds_no_epsilon_layer():
    """A BatchNorm merged into its layer is an identity and must not get the epsilon rule again:
    with a large epsilon the model with a BatchNorm gives the maps of the same network written
    with the BatchNorm folded into the linear layer by hand."""
    torch.manual_seed(0)
    with_bn = nn.Sequential(nn.Flatten(), nn.Linear(24, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(),
                            nn.Linear(16, 2, bias=False))
    _randomise(with_bn, zero_shift=True)
    bn = with_bn[2]
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
    folded = nn.Sequential(nn.Flatten(), nn.Linear(24, 16, bias=False), nn.ReLU(), nn.Linear(16, 2, bias=False))
    with torch.no_grad():
        folded[1].weight.copy_(with_bn[1].weight * scale[:, None])
        folded[3].weight.copy_(with_bn[4].weight)
    folded.eval()
    x = _x(6, 4, 6)
    for eps in (1e-6, 100.0):
        a = lrp.lrp_relevance(with_bn, x, composite=lrp.make_composite("epsilon", model=with_bn, epsilon=eps,
                                                                       example=x[:1]))
        b = lrp.lrp_relevance(folded, x, composite=lrp.make_composite("epsilon", model=folded, epsilon=eps))
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7 * float(np.abs(b).max()))
