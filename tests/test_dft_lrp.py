"""DFT-LRP virtual inspection layer (eegnb.explain.dft_lrp)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eegnb.explain import METHODS, dft_lrp, explain, lrp
from eegnb.explain.bands import band_edges
from eegnb.models import build

SFREQ, N_CH, N_T = 160.0, 6, 320


@pytest.fixture(scope="module")
def model():
    m = build("eegnet", N_CH, N_T, 2, sfreq=SFREQ, seed=0).eval()
    g = torch.Generator().manual_seed(0)
    for mod in m.modules():  # non-trivial BatchNorm statistics, as after training
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
            mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
    return m


def _x(n=3, seed=0):
    return torch.randn(n, N_CH, N_T, generator=torch.Generator().manual_seed(seed)) * 5


@pytest.mark.parametrize("n", [8, 9, 320])
def test_dft_matrices_invert(n):
    F, G = dft_lrp.dft_matrices(n)
    assert F.shape == (2 * (n // 2 + 1), n) and G.shape == (n, 2 * (n // 2 + 1))
    np.testing.assert_allclose(G @ F, np.eye(n), atol=1e-10)
    x = np.random.default_rng(0).normal(size=n)
    spec = np.fft.rfft(x)
    np.testing.assert_allclose(F @ x, np.concatenate([spec.real, spec.imag]), atol=1e-10)


def test_stdft_matrices_invert():
    F, G, centres, freqs = dft_lrp.stdft_matrices(N_T, SFREQ, window_s=0.5, hop_s=0.25)
    np.testing.assert_allclose(G @ F, np.eye(N_T), atol=1e-8)
    assert freqs[1] == pytest.approx(2.0)
    assert centres[0] == pytest.approx(0.0) and centres[-1] >= (N_T - 1) / SFREQ  # frames span the epoch
    # overlapping windows: no sample relies on a window tail, so the inverse is well conditioned
    assert np.abs(G).max() < 10 * np.abs(dft_lrp.dft_matrices(80)[1]).max()
    with pytest.raises(ValueError):
        dft_lrp.stdft_matrices(N_T, SFREQ, window_s=10.0)


@pytest.mark.parametrize("kind", ["dft", "stdft"])
def test_reconstructed_model_output_equals_original(model, kind):
    vi = dft_lrp.VirtualInspection(model, kind=kind)
    X = _x()
    with torch.no_grad():
        np.testing.assert_allclose(vi(X).numpy(), model(X).numpy(), rtol=1e-4, atol=1e-5)


def test_frequency_relevance_conserves_time_relevance(model):
    X = _x()
    vi = dft_lrp.VirtualInspection(model)
    Rf, Rt = dft_lrp.frequency_relevance(vi, X, rule="epsilon")
    assert Rf.shape == (3, N_CH, N_T // 2 + 1)
    # the inspection layer's time relevance is plain LRP of the model
    np.testing.assert_allclose(Rt, explain("lrp_epsilon", model, X), rtol=1e-3, atol=1e-6)
    # LRP-0 through the bias-free inverse DFT conserves relevance channel by channel
    np.testing.assert_allclose(Rf.sum(-1), Rt.sum(-1), rtol=1e-3, atol=1e-6)


def test_sinusoid_relevance_at_its_frequency(model):
    t = np.arange(N_T) / SFREQ
    for f0 in (10.0, 23.5):
        x = np.sin(2 * np.pi * f0 * t)[None, None] * np.linspace(1, 2, N_CH)[None, :, None]
        d = dft_lrp.DFTLRP(model, SFREQ)
        R = d.spectrum(np.repeat(x, 2, 0).astype(np.float32))
        share = np.abs(R).sum((0, 1))
        freqs = d.freqs(N_T)
        assert freqs[share.argmax()] == pytest.approx(f0)
        assert share.max() / share.sum() > 0.99


def test_registered_bands_and_time_frequency(model):
    m = METHODS["dft_lrp"]
    assert m.domain == "frequency" and m.signed and m.needs_sfreq
    X = _x()
    B = explain("dft_lrp", model, X, sfreq=SFREQ)
    assert B.shape == (3, N_CH, 10)
    d = dft_lrp.DFTLRP(model, SFREQ)
    S = d.spectrum(X)
    np.testing.assert_allclose(B.sum(-1), S.sum(-1), rtol=1e-3, atol=1e-6)  # bands cover 0..Nyquist
    B5 = explain("dft_lrp", model, X, sfreq=SFREQ, bands={"alpha": (8, 13), "beta": (13, 30)})
    assert B5.shape == (3, N_CH, 2)
    TF = d.time_frequency(X)
    times, freqs = d.tf_axes(N_T)
    assert TF.shape == (3, N_CH, len(times), len(freqs))
    np.testing.assert_allclose(TF.sum((2, 3)), S.sum(-1), rtol=1e-3, atol=1e-6)
    with pytest.raises(ValueError, match="sfreq"):
        explain("dft_lrp", model, X)
    assert band_edges(SFREQ).shape == (10, 2)


def test_registered_full_spectrum_on_request(model):
    X = _x(2)
    S = explain("dft_lrp", model, X, sfreq=SFREQ, spectrum=True)
    assert S.shape == (2, N_CH, N_T // 2 + 1)
    np.testing.assert_allclose(S, dft_lrp.DFTLRP(model, SFREQ).spectrum(X), rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="spectrum=True"):
        explain("dft_lrp", model, X, sfreq=SFREQ, spectrum=True, bands={"alpha": (8, 13)})


def test_other_rules_run(model):
    X = _x(2)
    for rule in lrp.RULES:
        R = dft_lrp.DFTLRP(model, SFREQ, rule=rule).spectrum(X)
        assert np.isfinite(R).all() and R.shape == (2, N_CH, N_T // 2 + 1)


@pytest.mark.notebook
def test_notebook_31_crp_frequency_topography(run_notebook):
    rec = run_notebook("31_crp_frequency_topography")
    assert rec["inspection_max_output_difference"] < 1e-4
    assert rec["sine_peak_hz"] == pytest.approx(12.0) and rec["sine_share_at_peak"] > 0.99
    # positive relevance lands on the planted evidence well above the uniform share
    assert rec["channel_share"] > 2 * rec["channel_uniform"]
    assert rec["band_share"] > 1.5 * rec["band_uniform"]
    assert rec["joint_share"] > 4 * rec["joint_uniform"]
    assert rec["ica_abs_share_by_label"].get("brain", 0) > 0.5
