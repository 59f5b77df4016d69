"""Every registered explainer on a foreign model, the captum baselines, the random control and
the validation of ``target`` in ``explain()``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from eegnb.explain import METHODS, check_target, crp, explain, lrp, predict
from eegnb.explain.easypeasi import easypeasi_scores

N, CH, T, SFREQ, K = 3, 4, 64, 64.0, 3

NEW = ["integrated_gradients", "input_x_gradient", "smoothgrad", "occlusion", "random"]
OLD = ["gradient", "context_mask", "frequency_mask", "easypeasi", "lrp_epsilon", "lrp_alphabeta",
       "lrp_epsilon_plus", "lrp_epsilon_alpha2_beta1", "dft_lrp"]

# small keywords so that the whole parametrised run stays fast
SMALL = {
    "context_mask": dict(epochs=3, progress=False),
    "frequency_mask": dict(epochs=3, patience=2),
    "easypeasi": dict(n_bands=3),
    "integrated_gradients": dict(n_steps=8),
    "smoothgrad": dict(nt_samples=4),
    "occlusion": dict(window=16),
}


def _foreign(seed=0) -> nn.Module:
    """A plain ``nn.Sequential`` (n, ch, t) -> logits: BatchNorm1d, ELU, pooling, dropout and
    no ``n_chans``/``n_times`` attributes; BatchNorm statistics are not the identity."""
    torch.manual_seed(seed)
    m = nn.Sequential(
        nn.Conv1d(CH, 6, 5, padding=2), nn.BatchNorm1d(6), nn.ELU(), nn.AvgPool1d(2), nn.Dropout(0.3),
        nn.Conv1d(6, 6, 3, padding=1), nn.BatchNorm1d(6), nn.ELU(), nn.MaxPool1d(2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(6 * (T // 4), K),
    )
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d):
            mod.running_mean.copy_(torch.rand(mod.num_features, generator=g) - 0.5)
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
    return m


def _X(n=N, seed=0):
    return np.random.default_rng(seed).standard_normal((n, CH, T)).astype("float32")


def _kw(name):
    kw = dict(SMALL.get(name, {}))
    if METHODS[name].needs_sfreq:
        kw["sfreq"] = SFREQ
    return kw


def test_every_method_registered_with_reference_and_target_flag():
    assert set(NEW + OLD) <= set(METHODS)
    for m in METHODS.values():
        assert m.description and m.paper, m.name
    assert {m.name for m in METHODS.values() if not m.uses_target} == {"random", "context_mask"}
    assert METHODS["integrated_gradients"].signed and METHODS["occlusion"].signed
    assert METHODS["input_x_gradient"].signed and not METHODS["smoothgrad"].signed
    assert METHODS["integrated_gradients"].defaults["n_steps"] == 32
    assert METHODS["smoothgrad"].defaults == dict(nt_samples=16, noise_level=0.1, seed=0)


@pytest.mark.filterwarnings("ignore:frequency_mask. no reference")
@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_on_a_foreign_model(name):
    m, X = _foreign(), _X()
    model = m.train()  # left in training mode: explain() must switch dropout/BatchNorm to eval itself
    a = explain(name, model, X, **_kw(name))
    if METHODS[name].domain == "time":
        assert a.shape == X.shape
    else:
        assert a.ndim == 3 and a.shape[:2] == (N, CH)
    assert np.isfinite(a).all()
    assert model.training
    # explicit target: accepted (predicted class for methods that do not use it)
    pred = _predicted(model, X)
    tgt = pred if not METHODS[name].uses_target else (pred + 1) % K
    b = explain(name, model, X, target=tgt, **_kw(name))
    assert b.shape == a.shape and np.isfinite(b).all()


def _predicted(model, X):
    return predict(model, X, device="cpu").argmax(1)


def test_lrp_traces_batchnorms_of_a_foreign_model_and_keeps_its_output():
    m, X = _foreign(), _X()
    assert lrp.batchnorm_pairs(m, torch.as_tensor(X[:1])) == [("0", "1"), ("5", "6")]
    with pytest.raises(ValueError, match="needs `example`"):
        lrp.batchnorm_pairs(m)
    before, after = lrp.canonized_outputs(m, X)
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-5)


def test_crp_on_a_foreign_conv1d_model():
    m, X = _foreign(), _X()
    assert crp.concept_layer(m) == "5"  # the last convolution
    r = crp.filter_relevance(m, X)
    h = crp.concept_heatmaps(m, X)
    assert h.shape == (N, 6, CH, T)
    np.testing.assert_allclose(h.sum(1), r.heatmap, rtol=1e-4, atol=1e-6 * np.abs(r.heatmap).max())
    assert crp.concept_spectra(m, X, sfreq=SFREQ).shape == (N, 6, CH, T // 2 + 1)
    dense = nn.Sequential(nn.Flatten(), nn.Linear(CH * T, K))
    with pytest.raises(ValueError, match="no Conv1d/Conv2d layer"):
        crp.filter_relevance(dense, X)


# --------------------------------------------------------------------------- captum baselines
def _smooth(seed=1):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv1d(CH, 5, 7, padding=3), nn.Tanh(), nn.Flatten(), nn.Linear(5 * T, K)).eval()


def test_integrated_gradients_completeness():
    m, X = _smooth(), _X()
    tgt = np.array([0, 1, 2])
    a = explain("integrated_gradients", m, X, target=tgt)
    with torch.no_grad():
        lx = m(torch.as_tensor(X))[np.arange(N), tgt].numpy()
        l0 = m(torch.zeros(N, CH, T))[np.arange(N), tgt].numpy()
    np.testing.assert_allclose(a.reshape(N, -1).sum(1), lx - l0, rtol=1e-3, atol=1e-4)
    assert np.abs(lx - l0).min() > 1e-2  # the check is not trivially 0 = 0
    assert (a < 0).any() and (a > 0).any()  # signed


def test_input_x_gradient_on_a_linear_model():
    m = nn.Sequential(nn.Flatten(), nn.Linear(CH * T, K))
    X = _X()
    tgt = [2, 0, 1]
    a = explain("input_x_gradient", m, X, target=tgt)
    W = m[1].weight.detach().numpy().reshape(K, CH, T)
    np.testing.assert_allclose(a, X * W[tgt], rtol=1e-5, atol=1e-7)


class _Channel0(nn.Module):
    """Linear read-out of channel 0 only."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.fc = nn.Linear(T, K)

    def forward(self, x):
        return self.fc(x[:, 0, :])


def test_occlusion_is_the_logit_drop_of_zeroed_windows():
    m, X = _Channel0(), _X()
    w = 16
    a = explain("occlusion", m, X, target=1, window=w)
    assert (a[:, 1:] == 0).all() and (np.abs(a[:, 0]) > 0).all()
    # linear model: zeroing a window drops the logit by sum(weight * x) over that window
    contrib = (m.fc.weight.detach().numpy()[1] * X[:, 0]).reshape(N, T // w, w).sum(-1)
    np.testing.assert_allclose(a[:, 0], np.repeat(contrib, w, axis=1), rtol=1e-4, atol=1e-5)
    # overlapping windows: each element averages the windows that contain it
    b = explain("occlusion", m, X, target=1, window=w, stride=w // 2)
    assert (b[:, 1:] == 0).all()
    np.testing.assert_allclose(b[:, 0, : w // 2], np.repeat(contrib[:, :1], w // 2, 1), rtol=1e-4, atol=1e-5)


class _Homogeneous(nn.Module):
    """Bias-free ReLU network: f(a x) = a f(x), so its gradient is the same at x and a x."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.net = nn.Sequential(nn.Conv1d(CH, 5, 5, padding=2, bias=False), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(5 * T, K, bias=False))

    def forward(self, x):
        return self.net(x)


def test_smoothgrad_noise_is_relative_to_each_samples_std():
    m, X = _Homogeneous(), _X()
    scale = np.array([1.0, 100.0, 0.01], np.float32)[:, None, None]
    a = explain("smoothgrad", m, X, target=0, seed=5)
    b = explain("smoothgrad", m, X * scale, target=0, seed=5)
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6 * np.abs(a).max())
    assert not np.allclose(a, explain("gradient", m, X, target=0), rtol=1e-3)  # the noise matters
    np.testing.assert_array_equal(a, explain("smoothgrad", m, X, target=0, seed=5))
    assert not np.array_equal(a, explain("smoothgrad", m, X, target=0, seed=6))
    np.testing.assert_allclose(explain("smoothgrad", m, X, target=0, noise_level=0.0),
                               explain("gradient", m, X, target=0), rtol=1e-4, atol=1e-8)
    # a constant sample gets no noise: its plain absolute gradient
    Xc = X.copy()
    Xc[1] = 0.5
    np.testing.assert_allclose(explain("smoothgrad", m, Xc, target=0)[1], explain("gradient", m, Xc, target=0)[1],
                               rtol=1e-4, atol=1e-8)


def test_random_map_is_seeded_and_model_independent():
    X = _X(5)
    a = explain("random", _foreign(0), X, seed=1)
    assert a.shape == X.shape and a.min() >= 0 and a.max() < 1
    np.testing.assert_array_equal(a, explain("random", _foreign(0), X, seed=1))
    np.testing.assert_array_equal(a, explain("random", _smooth(), X, seed=1))  # another model
    np.testing.assert_array_equal(a, explain("random", _foreign(0), X, seed=1, batch_size=2))  # batching
    np.testing.assert_array_equal(a[3:], explain("random", _foreign(0), X[3:], seed=1))  # other samples
    b = explain("random", _foreign(0), X, seed=2)
    assert not np.isclose(a, b).any(axis=(1, 2)).all() and np.abs(a - b).mean() > 0.2
    assert np.abs(a[0] - a[1]).mean() > 0.2  # samples differ too
    with pytest.raises(ValueError, match="seed"):
        explain("random", _foreign(0), X, seed=-1)


# --------------------------------------------------------------------------- target validation
@pytest.mark.parametrize(
    "target,msg",
    [
        (1.0, "cast"),
        (np.array([0.0, 1.0, 2.0]), "cast"),
        (torch.tensor([0.0, 1.0, 1.0]), "cast"),
        (True, "bool"),
        (np.array([True, False, True]), "bool"),
        (-1, r"\[0, 3\)"),
        (np.array([0, -1, 1]), r"\[0, 3\)"),
        (3, r"\[0, 3\)"),
        (torch.tensor([0, 1, 7]), r"\[0, 3\)"),
        ([0, 1], r"shape \(3,\)"),
        (np.zeros((3, 1), int), r"shape \(3,\)"),
        ("1", "integer"),
    ],
)
def test_bad_targets_raise(target, msg):
    with pytest.raises(ValueError, match=msg):
        explain("gradient", _foreign(), _X(), target=target)


def test_good_targets_accepted():
    m, X = _foreign(), _X()
    ref = explain("gradient", m, X, target=[1, 1, 1])
    for t in (1, np.int64(1), np.array(1), torch.tensor(1), np.array([1, 1, 1], np.int32), torch.tensor([1, 1, 1])):
        np.testing.assert_array_equal(explain("gradient", m, X, target=t), ref)
    assert check_target(np.uint8(2), 3, 3).tolist() == [2, 2, 2]


def test_empty_batch_raises():
    with pytest.raises(ValueError, match="X is empty"):
        explain("gradient", _foreign(), np.zeros((0, CH, T), np.float32))


@pytest.mark.parametrize("name", ["random", "context_mask"])
def test_target_free_methods_refuse_another_class(name):
    m, X = _foreign(), _X()
    pred = _predicted(m, X)
    kw = _kw(name)
    with pytest.raises(ValueError, match="does not use target"):
        explain(name, m, X, target=(pred + 1) % K, **kw)
    explain(name, m, X, target=pred, **kw)  # the predicted class is what they explain anyway


def test_easypeasi_refuses_negative_target_when_called_directly():
    m, X = _foreign(), _X()
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        easypeasi_scores(m, X, -1, sfreq=SFREQ, n_bands=2)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        explain("easypeasi", m, X, target=-1, sfreq=SFREQ, n_bands=2)
