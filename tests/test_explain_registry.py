"""The one explainer entry point: registry, validation, target handling, gradient baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain import METHODS, explain, methods_table
from eegnb.explain.bands import band_edges, band_truth, bin_band_index, rfft_freqs
from eegnb.metrics import localisation_auc, relevance_share


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 16, 3))


def test_registry_lists_domains():
    assert "gradient" in METHODS
    for m in METHODS.values():
        assert m.domain in ("time", "frequency")
    t = methods_table()
    assert set(t.index) == set(METHODS)
    assert {"domain", "signed", "uses_target", "needs_sfreq", "keywords", "paper"} <= set(t.columns)
    assert not t.loc["random", "uses_target"] and t.loc["gradient", "uses_target"]
    assert "n_steps=32" in t.loc["integrated_gradients", "keywords"]


def test_gradient_shape_nonnegative_and_targets():
    X = np.random.default_rng(0).standard_normal((5, 4, 16)).astype("float32")
    m = _model()
    a = explain("gradient", m, X)
    assert a.shape == X.shape and (a >= 0).all()
    # for a linear model the gradient is the weight row of the target class
    w = m[1].weight.detach().numpy().reshape(3, 4, 16)
    b = explain("gradient", m, X, target=2)
    np.testing.assert_allclose(b[0], np.abs(w[2]), rtol=1e-5)
    c = explain("gradient", m, X, target=[0, 1, 2, 0, 1])
    np.testing.assert_allclose(c[1], np.abs(w[1]), rtol=1e-5)
    # batching gives the same answer
    np.testing.assert_allclose(explain("gradient", m, X, batch_size=2), a, rtol=1e-6)


def test_model_left_as_found():
    m = _model()
    m.train()
    explain("gradient", m, np.zeros((2, 4, 16), np.float32))
    assert m.training and all(p.requires_grad for p in m.parameters())


@pytest.mark.parametrize(
    "X,kw,msg",
    [
        (np.zeros((4, 16), np.float32), {}, r"shape \(n, ch, t\)"),
        (np.full((2, 4, 16), np.nan, np.float32), {}, "NaN"),
        (np.zeros((2, 4, 16), np.float32), {"target": [0, 1, 2]}, "target"),
    ],
)
def test_bad_input(X, kw, msg):
    with pytest.raises((ValueError, RuntimeError), match=msg):
        explain("gradient", _model(), X, **kw)


def test_unknown_method():
    with pytest.raises(ValueError, match="unknown explanation method"):
        explain("nope", _model(), np.zeros((1, 4, 16), np.float32))


def test_band_edges_and_truth():
    e = band_edges(200.0, 10)
    assert e.shape == (10, 2) and e[0, 0] == 0 and e[-1, 1] == 100
    f = rfft_freqs(400, 200.0)
    idx = bin_band_index(f, e)
    assert (idx >= 0).all() and idx[-1] == 9  # Nyquist belongs to the last band
    tf = np.zeros((3, len(f)))
    tf[1, (f >= 31) & (f <= 39)] = 1
    bt = band_truth(tf, 200.0, 400, e)
    assert bt.shape == (3, 10) and bt[1, 3] == 1 and bt.sum() == 1
    with pytest.raises(ValueError):
        band_edges(200.0, bands=[(10, 5)])


def test_localisation_metrics():
    truth = np.zeros((2, 3, 4))
    truth[:, 0, :2] = 1
    perfect = truth + 0.01 * np.random.default_rng(0).random(truth.shape)
    np.testing.assert_allclose(localisation_auc(perfect, truth), 1.0)
    np.testing.assert_allclose(localisation_auc(1 - perfect, truth), 0.0)
    np.testing.assert_allclose(relevance_share(truth * 2.0, truth), 1.0)
    assert np.isnan(localisation_auc(np.ones((1, 3, 4)), np.zeros((1, 3, 4))))[0]
    with pytest.raises(ValueError):
        localisation_auc(np.ones((2, 3, 4)), np.ones((5,)))


def test_return_info_merges_batches():
    """Per-sample info is concatenated in sample order across batches; shared info must agree."""
    from eegnb.explain.registry import METHODS as REG
    from eegnb.explain.registry import register

    def fake(model, X, target, **kw):
        x = X.detach().cpu().numpy()
        return np.abs(x), {"first": x[:, 0, 0].copy(), "edges": np.array([[0.0, 4.0]])}

    register("_fake_info", domain="time", description="test only")(fake)
    try:
        m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8, 2))
        X = np.random.default_rng(0).normal(size=(5, 3, 8)).astype("float32")
        maps, info = explain("_fake_info", m, X, batch_size=2, return_info=True)
        assert maps.shape == X.shape
        np.testing.assert_allclose(info["first"], X[:, 0, 0])
        np.testing.assert_array_equal(info["edges"], [[0.0, 4.0]])
        assert info["method"] == "_fake_info" and info["domain"] == "time"
        assert isinstance(explain("_fake_info", m, X), np.ndarray)
    finally:
        REG.pop("_fake_info", None)


def test_return_info_band_edges_shared_when_batch_equals_bands():
    from eegnb.explain.registry import METHODS as REG
    from eegnb.explain.registry import register

    edges = np.array([[0.0, 4.0], [4.0, 8.0]])

    def fake(model, X, target, **kw):
        return np.ones((len(X), X.shape[1], 2), np.float32), {"band_edges": edges}

    register("_fake_edges", domain="frequency", description="test only")(fake)
    try:
        m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8, 2))
        X = np.zeros((4, 3, 8), np.float32)
        _, info = explain("_fake_edges", m, X, batch_size=2, return_info=True)
        np.testing.assert_array_equal(info["band_edges"], edges)
    finally:
        REG.pop("_fake_edges", None)
