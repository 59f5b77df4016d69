"""Deletion curves run as batched inference: many samples' perturbed copies per forward pass,
with the same curves as one copy per pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain.bands import band_edges
from eegnb.metrics.faithfulness import deletion_curve
from eegnb.models import build


class Counting(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.calls, self.rows = inner, 0, 0

    def forward(self, x):
        self.calls += 1
        self.rows += len(x)
        return self.inner(x)


@pytest.fixture(scope="module")
def setup():
    model = build("eegnet", 8, 128, 2, sfreq=128.0, seed=0).eval()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 8, 128)).astype(np.float32)
    y = rng.integers(0, 2, 6)
    return model, X, y, rng


@pytest.mark.parametrize("axis,replace", [("channel", "zero"), ("channel", "mean"), ("time", "zero"),
                                          ("band", "zero"), ("band", "band_noise")])
def test_batched_curves_equal_one_copy_per_pass(setup, axis, replace):
    model, X, y, rng = setup
    edges = band_edges(128.0, 5)
    maps = rng.random((6, 8, 5)) if axis == "band" else rng.random(X.shape)
    maps[0] = 1.0  # a constant map: one tie group
    kw = dict(axis=axis, replace=replace, sfreq=128.0, edges=edges, n_steps=8, device="cpu")
    counted = Counting(model)
    batched = deletion_curve(counted, X, y, maps, **kw)
    one = deletion_curve(model, X, y, maps, batch_size=1, **kw)
    np.testing.assert_allclose(batched["curve"], one["curve"], rtol=1e-5, atol=1e-6)
    # all samples' perturbed copies go through the model together: one pass per 256 copies
    assert counted.calls == int(np.ceil(counted.rows / 256)) and counted.rows > len(X)
