"""Automatic batch size in explain(): batching never changes a map; mixed precision only on CUDA."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain import METHODS, explain
from eegnb.explain.registry import BATCH_INVARIANT
from eegnb.models import build
from eegnb.utils import CPU_BATCH, auto_batch_size

N = CPU_BATCH + 4  # two automatic batches on a CPU
KW = {
    "context_mask": dict(epochs=4, progress=False),
    "integrated_gradients": dict(n_steps=4),
    "occlusion": dict(window=32),
    "dft_lrp": dict(sfreq=128.0),
    "smoothgrad": dict(nt_samples=3),
    "frequency_mask": dict(sfreq=128.0, epochs=3),
    "easypeasi": dict(sfreq=128.0),
}


@pytest.fixture(scope="module")
def setup():
    model = build("eegnet", 8, 128, 2, sfreq=128.0, seed=0).eval()
    X = np.random.default_rng(0).standard_normal((N, 8, 128)).astype(np.float32)
    return model, X


def test_auto_batch_size_on_cpu():
    m = build("eegnet", 8, 128, 2, sfreq=128.0, seed=0)
    assert auto_batch_size(m, (8, 128), "cpu") == CPU_BATCH
    assert auto_batch_size(m, (8, 128), "cpu", n=3) == 3
    assert auto_batch_size(m, (8, 128), "cpu", cpu_batch=64, max_batch=40, n=100) == 40


@pytest.mark.parametrize("method", sorted(BATCH_INVARIANT))
def test_automatic_batches_equal_one_call(setup, method):
    model, X = setup
    auto, info = explain(method, model, X, device="cpu", return_info=True, **KW.get(method, {}))
    assert info["batch_size"] == CPU_BATCH
    whole = explain(method, model, X, device="cpu", batch_size=N, **KW.get(method, {}))
    scale = max(np.abs(whole).max(), 1e-12)
    np.testing.assert_allclose(auto, whole, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("method", ["smoothgrad", "frequency_mask", "easypeasi"])
def test_batch_dependent_methods_keep_one_call(setup, method):
    """Their maps depend on the batch (noise drawn per batch, batch spectrum): no automatic split."""
    model, X = setup
    assert method in METHODS and method not in BATCH_INVARIANT
    auto, info = explain(method, model, X, device="cpu", return_info=True, **KW[method])
    assert info["batch_size"] == N
    np.testing.assert_array_equal(auto, explain(method, model, X, device="cpu", batch_size=N, **KW[method]))


def test_bad_batch_size_and_amp_on_cpu(setup):
    model, X = setup
    with pytest.raises(ValueError, match="batch_size"):
        explain("gradient", model, X, batch_size=0)
    with pytest.raises(ValueError, match="CUDA"):
        explain("gradient", model, X, device="cpu", amp=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_auto_batch_and_mixed_precision_match_float32():
    model = build("eegnet", 32, 512, 2, sfreq=128.0, seed=0).eval()
    X = np.random.default_rng(1).standard_normal((64, 32, 512)).astype(np.float32)
    assert auto_batch_size(model.cuda(), (32, 512), "cuda", n=10**6) > CPU_BATCH
    for method in ("gradient", "lrp_epsilon_plus"):
        f32 = explain(method, model, X, device="cuda")
        f16 = explain(method, model, X, device="cuda", amp=True)
        r = [np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(f32, f16)]
        assert min(r) > 0.99, (method, min(r))
    np.testing.assert_allclose(explain("gradient", model, X, device="cuda"),
                               explain("gradient", model, X, device="cuda", batch_size=7), rtol=1e-4, atol=1e-6)
