"""Model-randomisation sanity checks (eegnb.metrics.sanity) and cost measurement (eegnb.metrics.cost).

Quantus 0.6's ModelParameterRandomisation / MPRT wraps models for image inputs and draws its
own re-initialisation, so its per-layer numbers cannot be matched; we check our per-sample
comparison against Quantus' ``correlation_spearman`` and the cascade against hand-built
explainers (one that ignores the model must fail, the gradient of a trained model must pass).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from eegnb.metrics.cost import measure_cost
from eegnb.metrics.sanity import (
    cascading_randomisation,
    parameterised_layers,
    randomisation_sanity,
    rank_correlation,
)

N, C, T = 24, 4, 32


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(C, 6, 5, padding=2)
        self.fc1 = torch.nn.Linear(6 * T, 16)
        self.out = torch.nn.Linear(16, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.fc1(torch.tanh(self.conv(x)).flatten(1))))


@pytest.fixture(scope="module")
def trained():
    """A small model trained for a few steps on a toy task (channel 1, samples 8-16 carry the class)."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    X = torch.randn(200, C, T, generator=g)
    y = torch.arange(200) % 2
    X[:, 1, 8:16] += (2 * y[:, None] - 1).float() * 1.5
    model = Small()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()
    acc = float((model(X).argmax(1) == y).float().mean())
    assert acc > 0.9
    return model, X[:N].numpy()


def test_gradient_changes_under_randomisation(trained):
    model, X = trained
    before = [p.detach().clone() for p in model.parameters()]
    df = cascading_randomisation(model, X, "gradient", seed=0, device="cpu")
    assert list(df.columns[:5]) == ["step", "layer", "spearman", "spearman_lo", "spearman_hi"]
    assert df.step.tolist() == [0, 1, 2, 3] and df.layer.tolist() == ["none", "out", "fc1", "conv"]
    assert df.spearman.iloc[0] == pytest.approx(1.0)  # the intact copy reproduces the maps
    assert (df.spearman_lo <= df.spearman).all() and (df.spearman <= df.spearman_hi).all()
    assert df.spearman.iloc[-1] < df.spearman.iloc[0] - 0.3
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # original untouched
    r = randomisation_sanity(model, X, "gradient", seed=0, device="cpu")
    assert r["passes"] and r["spearman_full"] < 0.5 and r["n_nan"] == 0
    assert r["spearman_full"] == pytest.approx(df.spearman.iloc[-1])
    # seeded
    again = cascading_randomisation(model, X, "gradient", seed=0, device="cpu")
    np.testing.assert_allclose(again.spearman, df.spearman)


def test_input_as_map_does_not_pass(trained):
    model, X = trained
    r = randomisation_sanity(model, X, None, explain_fn=lambda m, x, t: np.asarray(x))
    assert not r["passes"] and r["spearman_full"] == pytest.approx(1.0)


def test_constant_maps_give_nan_and_are_counted(trained):
    model, X = trained
    df = cascading_randomisation(model, X, None, explain_fn=lambda m, x, t: np.zeros(np.shape(x)), layers=["out"])
    assert df.n_nan.tolist() == [N, N] and df.spearman.isna().all()
    r = randomisation_sanity(model, X, None, explain_fn=lambda m, x, t: np.zeros(np.shape(x)))
    assert not r["passes"] and r["n_nan"] == N
    with pytest.raises(ValueError, match="layers"):
        cascading_randomisation(model, X, "gradient", layers=["nope"])
    assert parameterised_layers(model) == ["conv", "fc1", "out"]


def test_rank_correlation_matches_quantus():
    quantus = pytest.importorskip("quantus")
    from quantus.functions.similarity_func import correlation_spearman

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3, 8)), rng.standard_normal((5, 3, 8))
    b[1] = a[1] * 2 + 0.01 * b[1]
    ours = rank_correlation(a, b)
    ref = [correlation_spearman(np.abs(x).ravel(), np.abs(z).ravel()) for x, z in zip(a, b)]
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    assert ours[1] > 0.9
    np.testing.assert_allclose(rank_correlation(a, -a, absolute=False), -1.0)
    assert quantus is not None


def test_measure_cost_cpu():
    def work():
        big = np.ones(60 * 2**20 // 8)  # 60 MB, touched
        time.sleep(0.05)
        return float(big.sum())

    r = measure_cost(work, 10, device="cpu", keep_result=True)
    assert r["result"] == 60 * 2**20 // 8 and r["memory"] == "cpu_rss_sampled"
    assert r["seconds"] >= 0.05 and r["seconds_per_sample"] == pytest.approx(r["seconds"] / 10)
    assert 40 < r["peak_mb"] < 200
    small = measure_cost(lambda: time.sleep(0.02), 1, device="cpu")
    assert small["peak_mb"] < 20
    with pytest.raises(ValueError, match="n_samples"):
        measure_cost(work, 0)
